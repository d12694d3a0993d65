package flipkyc_test

import (
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"strings"

	"github.com/flipkyc/flipkyc"
)

// The examples of how the data types log and marshal: personal data is
// masked wherever a value could reach a log by mistake.

func ExampleAgent_LogValue() {
	agent := flipkyc.Agent{ID: 1001, Name: "John Doe", IdentityNumber: "1234567890123456", KYCStatus: flipkyc.StatusApproved}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("agent approved", "agent", agent)
	out := buf.String()
	fmt.Println(strings.Contains(out, "John"), strings.Contains(out, "1234567890123456"), strings.Contains(out, "KYCStatus: APPROVED"))
	// Output: false false true
}

func ExampleAgentParams_LogValue() {
	p := flipkyc.AgentParams{Name: "John Doe", PhoneNumber: "+628123456789", CountryID: 1}
	out := fmt.Sprint(p.LogValue())
	fmt.Println(strings.Contains(out, "John"), strings.Contains(out, "Name: [masked]"), strings.Contains(out, "CountryID: 1"))
	// Output: false true true
}

func ExampleKYCUser_LogValue() {
	u := flipkyc.KYCUser{UserID: 1001, Name: "John Doe", NIK: "1234567890123456", Status: flipkyc.StatusPending}
	out := fmt.Sprint(u.LogValue())
	fmt.Println(strings.Contains(out, "1234567890123456"), strings.Contains(out, "NIK: [masked]"), strings.Contains(out, "Status: PENDING"))
	// Output: false true true
}

func ExampleRepairDataParams_LogValue() {
	p := flipkyc.RepairDataParams{Name: "John Smith", CityID: 184}
	out := fmt.Sprint(p.LogValue())
	fmt.Println(strings.Contains(out, "Smith"), strings.Contains(out, "CityID: 184"))
	// Output: false true
}

func ExampleImage_LogValue() {
	img := flipkyc.Image{Name: "john-doe-ktp.jpg", Content: strings.NewReader("…")}
	fmt.Println(img.LogValue())
	// Output: flipkyc.Image{Name: [masked], Content: *strings.Reader}
}

func ExampleImage_MarshalJSON() {
	b, err := json.Marshal(flipkyc.Image{Name: "john-doe-ktp.jpg", Content: strings.NewReader("…")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
	// Output: {"content":"*strings.Reader","name":"[masked]"}
}

func ExampleDocument_LogValue() {
	doc := flipkyc.Document{Type: flipkyc.DocumentNPWP, Image: flipkyc.Image{Name: "john-doe-npwp.jpg", Content: strings.NewReader("…")}}
	fmt.Println(doc.LogValue())
	// Output: {npwp false flipkyc.Image{Name: [masked], Content: *strings.Reader}}
}
