package flipkyc_test

import (
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/flipkyc/flipkyc"
)

// The examples of the value types: dates, timestamps, statuses, codes and
// the other enumerations of Flip's API.

func ExampleNewDate() {
	d := flipkyc.NewDate(1990, time.October, 31)
	parsed, err := flipkyc.ParseDate("31-10-1990")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d, d == parsed)
	// Output: 31-10-1990 true
}

func ExampleDateOf() {
	jakarta := time.FixedZone("WIB", 7*60*60)
	t := time.Date(2024, time.January, 2, 1, 30, 0, 0, jakarta)
	// The day is the one in t's own location.
	fmt.Println(flipkyc.DateOf(t), flipkyc.DateOf(t.UTC()))
	// Output: 02-01-2024 01-01-2024
}

func ExampleParseDate() {
	for _, s := range []string{"31-10-1990", "1990-10-31", "31-02-1990", "31/10/1990"} {
		d, err := flipkyc.ParseDate(s)
		if err != nil {
			fmt.Println(s, "is refused:", err)
			continue
		}
		fmt.Println(s, "is", d)
	}
	// Output:
	// 31-10-1990 is 31-10-1990
	// 1990-10-31 is 31-10-1990
	// 31-02-1990 is refused: flipkyc: date must be DD-MM-YYYY or YYYY-MM-DD, a real day
	// 31/10/1990 is refused: flipkyc: date must be DD-MM-YYYY or YYYY-MM-DD, a real day
}

func ExampleDate_IsZero() {
	var unset flipkyc.Date
	var unreadable flipkyc.Date
	if err := json.Unmarshal([]byte(`"sometime in 1990"`), &unreadable); err != nil {
		log.Fatal(err)
	}
	fmt.Println(unset.IsZero(), unreadable.IsZero(), unreadable.Raw)
	fmt.Println(flipkyc.NewDate(1990, 10, 31).IsZero())
	// Output:
	// true true sometime in 1990
	// false
}

func ExampleDate_Valid() {
	fmt.Println(flipkyc.NewDate(2024, time.February, 29).Valid())
	fmt.Println(flipkyc.NewDate(2023, time.February, 29).Valid())
	// Output:
	// true
	// false
}

func ExampleDate_Time() {
	d := flipkyc.NewDate(1990, time.October, 31)
	fmt.Println(d.Time())
	fmt.Println(d.Time().Weekday())
	// Output:
	// 1990-10-31 00:00:00 +0000 UTC
	// Wednesday
}

func ExampleDate_String() {
	fmt.Println(flipkyc.NewDate(1990, time.October, 31).String())
	fmt.Printf("%q\n", flipkyc.Date{}.String())
	// Output:
	// 31-10-1990
	// ""
}

func ExampleDate_MarshalJSON() {
	b, err := json.Marshal(struct {
		Born, Died flipkyc.Date
	}{Born: flipkyc.NewDate(1990, time.October, 31)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output: {"Born":"31-10-1990","Died":null}
}

func ExampleDate_UnmarshalJSON() {
	// Flip writes dates in several forms; all of them decode to one value.
	for _, s := range []string{`"31-10-1990"`, `"1990-10-31T00:00:00Z"`, `"31-10-1990T00:00:00Z"`, `null`} {
		var d flipkyc.Date
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-24s %q\n", s, d)
	}
	// Output:
	// "31-10-1990"             "31-10-1990"
	// "1990-10-31T00:00:00Z"   "31-10-1990"
	// "31-10-1990T00:00:00Z"   "31-10-1990"
	// null                     ""
}

func ExampleParseTimestamp() {
	// Flip's zone-less timestamps are in Western Indonesian Time, UTC+7.
	ts, err := flipkyc.ParseTimestamp("2022-02-18 09:48:58")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ts.UTC(), ts.Raw)

	ts, err = flipkyc.ParseTimestamp("2022-01-02T15:38:49.317601182+07:00")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ts.UTC())

	ts, err = flipkyc.ParseTimestamp("tomorrow")
	fmt.Println(ts.IsZero(), ts.Raw, err)
	// Output:
	// 2022-02-18 02:48:58 +0000 UTC 2022-02-18 09:48:58
	// 2022-01-02 08:38:49.317601182 +0000 UTC
	// true tomorrow flipkyc: unknown timestamp layout "tomorrow"
}

func ExampleTimestamp_MarshalText() {
	fromFlip, err := flipkyc.ParseTimestamp("2022-01-02T15:38:49+07:00")
	if err != nil {
		log.Fatal(err)
	}
	fromCode := flipkyc.Timestamp{Time: time.Date(2022, 1, 2, 8, 38, 49, 0, time.UTC)}
	for _, ts := range []flipkyc.Timestamp{fromFlip, fromCode, {}} {
		b, err := ts.MarshalText()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q\n", b)
	}
	// Output:
	// "2022-01-02T15:38:49+07:00"
	// "2022-01-02 15:38:49"
	// ""
}

func ExampleTimestamp_UnmarshalText() {
	// For example a timestamp kept as text in a database or a CSV file.
	var ts flipkyc.Timestamp
	if err := ts.UnmarshalText([]byte("2022-02-18 09:48:58")); err != nil {
		log.Fatal(err)
	}
	fmt.Println(ts.UTC())
	// Output: 2022-02-18 02:48:58 +0000 UTC
}

func ExampleTimestamp_MarshalJSON() {
	ts, err := flipkyc.ParseTimestamp("2022-02-18 09:48:58")
	if err != nil {
		log.Fatal(err)
	}
	b, err := json.Marshal(map[string]flipkyc.Timestamp{"updated_at": ts, "verified_at": {}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output: {"updated_at":"2022-02-18 09:48:58","verified_at":null}
}

func ExampleTimestamp_UnmarshalJSON() {
	var v struct {
		CreatedAt  flipkyc.Timestamp `json:"created_at"`
		VerifiedAt flipkyc.Timestamp `json:"verified_at"`
	}
	if err := json.Unmarshal([]byte(`{"created_at":"2022-04-20T14:37:07+07:00","verified_at":null}`), &v); err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.CreatedAt.UTC(), v.VerifiedAt.IsZero())
	// Output: 2022-04-20 07:37:07 +0000 UTC true
}

func ExampleKYCStatus() {
	for _, s := range []flipkyc.KYCStatus{flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusPending, flipkyc.StatusRejected} {
		fmt.Printf("%s final=%t submit=%t repair=%t\n", s, s.IsFinal(), s.CanSubmit(), s.NeedsRepair())
	}
	// Output:
	// UPLOAD_IDENTITY_SELFIE_SUCCESS final=false submit=true repair=false
	// PENDING final=false submit=false repair=false
	// REJECTED final=true submit=false repair=true
}

func ExampleKYCStatusFromCode() {
	fmt.Println(flipkyc.KYCStatusFromCode(19), flipkyc.KYCStatusFromCode(50))
	unknown := flipkyc.KYCStatusFromCode(99)
	fmt.Println(unknown, unknown.Known())
	// Output:
	// UPLOAD_IDENTITY_SELFIE_SUCCESS REJECTED
	// 99 false
}

func ExampleKYCStatus_Code() {
	for _, s := range []flipkyc.KYCStatus{flipkyc.StatusPending, flipkyc.StatusBasicData} {
		code, ok := s.Code()
		fmt.Println(s, code, ok)
	}
	// Output:
	// PENDING 20 true
	// BASIC_DATA 0 false
}

func ExampleKYCStatus_Known() {
	var s flipkyc.KYCStatus
	if err := json.Unmarshal([]byte(`"on_hold"`), &s); err != nil {
		log.Fatal(err)
	}
	// A status Flip adds later is kept, and not Known.
	fmt.Println(s, s.Known(), flipkyc.StatusHelp.Known())
	// Output: ON_HOLD false true
}

func ExampleKYCStatus_IsFinal() {
	fmt.Println(flipkyc.StatusApproved.IsFinal(), flipkyc.StatusRejected.IsFinal(), flipkyc.StatusSuspicious.IsFinal())
	// Output: true true false
}

func ExampleKYCStatus_NeedsRepair() {
	for _, s := range []flipkyc.KYCStatus{flipkyc.StatusUploadIdentityFailed, flipkyc.StatusUploadIdentitySelfieFailed,
		flipkyc.StatusRejected, flipkyc.StatusHelp, flipkyc.StatusPending, flipkyc.StatusApproved} {
		fmt.Println(s, s.NeedsRepair())
	}
	// Output:
	// UPLOAD_IDENTITY_FAILED true
	// UPLOAD_IDENTITY_SELFIE_FAILED true
	// REJECTED true
	// HELP true
	// PENDING false
	// APPROVED false
}

func ExampleKYCStatus_CanSubmit() {
	fmt.Println(flipkyc.StatusUploadIdentitySelfieSuccess.CanSubmit(), flipkyc.StatusUploadIdentitySuccess.CanSubmit())
	// Output: true false
}

func ExampleKYCStatus_CanUploadDocuments() {
	for _, s := range []flipkyc.KYCStatus{flipkyc.StatusRejected, flipkyc.StatusUploadIdentitySelfieFailed, flipkyc.StatusHelp} {
		fmt.Println(s, s.CanUploadDocuments())
	}
	// Output:
	// REJECTED true
	// UPLOAD_IDENTITY_SELFIE_FAILED true
	// HELP false
}

func ExampleKYCStatus_UnmarshalJSON() {
	// Names from the v2 agents API and callbacks, numbers from the KYC service.
	var v struct{ A, B, C flipkyc.KYCStatus }
	if err := json.Unmarshal([]byte(`{"A":"APPROVED","B":20,"C":"50"}`), &v); err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.A, v.B, v.C)
	// Output: APPROVED PENDING REJECTED
}

func ExampleAgentStatus_Known() {
	fmt.Println(flipkyc.AgentActive.Known(), flipkyc.AgentStatus("SUSPENDED").Known())
	// Output: true false
}

func ExampleAgentStatus_UnmarshalJSON() {
	var v struct{ A, B, C flipkyc.AgentStatus }
	if err := json.Unmarshal([]byte(`{"A":"ACTIVE","B":10,"C":"30"}`), &v); err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.A, v.B, v.C)
	// Output: ACTIVE ACTIVE BLOCKED
}

func ExampleIdentityType_Known() {
	fmt.Println(flipkyc.IdentityKTP.Known(), flipkyc.IdentityPassport.Known(), flipkyc.IdentityType("kitas").Known())
	// Output: true true false
}

func ExampleIdentityType_UnmarshalJSON() {
	// "ktp" from the v2 agents API, 1 from the KYC service.
	var v struct{ A, B, C flipkyc.IdentityType }
	if err := json.Unmarshal([]byte(`{"A":"ktp","B":1,"C":"PASSPORT"}`), &v); err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.A, v.B, v.C, v.A == v.B)
	// Output: ktp ktp passport true
}

func ExampleGender_Known() {
	fmt.Println(flipkyc.GenderFemale.Known(), flipkyc.Gender("f").Known())
	// Output: true false
}

func ExampleGender_UnmarshalJSON() {
	var v struct{ A, B flipkyc.Gender }
	if err := json.Unmarshal([]byte(`{"A":"female","B":2}`), &v); err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.A, v.B)
	// Output: female female
}

func ExampleOccupation_Known() {
	fmt.Println(flipkyc.OccupationOthers.Known(), flipkyc.Occupation("astronaut").Known())
	// Output: true false
}

func ExampleOccupation_UnmarshalJSON() {
	// Flip has been seen to answer in upper case.
	var o flipkyc.Occupation
	if err := json.Unmarshal([]byte(`"GOVERNMENT_EMPLOYEE"`), &o); err != nil {
		log.Fatal(err)
	}
	fmt.Println(o, o == flipkyc.OccupationGovernmentEmployee)
	// Output: government_employee true
}

func ExampleUserType_String() {
	fmt.Println(flipkyc.UserTypeAgent.String())
	// Output: 1
}

func ExampleDocumentType_Known() {
	fmt.Println(flipkyc.DocumentNPWP.Known(), flipkyc.DocumentType("ktp").Known())
	// Output: true false
}

func ExampleUploadedDocument_UnmarshalJSON() {
	var docs []flipkyc.UploadedDocument
	err := json.Unmarshal([]byte(`[{"id":"7","type":1,"selfie":true,"path":"some/path/url/image.png",
		"created_at":"2022-01-02T15:38:49.317601182+07:00"}]`), &docs)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(docs[0].ID, docs[0].Selfie, docs[0].Path, docs[0].CreatedAt.UTC())
	// Output: 7 true some/path/url/image.png 2022-01-02 08:38:49.317601182 +0000 UTC
}

func ExampleRejectionCode_Known() {
	fmt.Println(flipkyc.RejectionCode(14).Known(), flipkyc.RejectionCode(99).Known())
	// Output: true false
}

func ExampleRejectionCode_Message() {
	fmt.Println(flipkyc.RejectionCode(19).Message())
	// Output: ID card has expired
}

func ExampleRejectionCode_Fixes() {
	for _, code := range []flipkyc.RejectionCode{10, 17, 25, 29, 99} {
		fmt.Println(code, code.Fixes())
	}
	// Output:
	// 10 [repair_data]
	// 17 [repair_identity_image supporting_documents]
	// 25 [repair_selfie]
	// 29 [none]
	// 99 [contact_flip]
}

func ExampleRejectionCode_String() {
	fmt.Printf("%q %q\n", flipkyc.RejectionCode(17).String(), flipkyc.RejectionCode(0).String())
	// Output: "17" ""
}

func ExampleRejectionCode_MarshalJSON() {
	b, err := json.Marshal([]flipkyc.RejectionCode{17, 0})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output: [17,null]
}

func ExampleRejectionCode_UnmarshalJSON() {
	// Flip sends the code as a number, a numeric string or null.
	var codes []flipkyc.RejectionCode
	if err := json.Unmarshal([]byte(`[10, "17", null]`), &codes); err != nil {
		log.Fatal(err)
	}
	fmt.Println(codes[0].Fixes(), codes[1].Fixes(), codes[2] == 0)
	// Output: [repair_data] [repair_identity_image supporting_documents] true
}
