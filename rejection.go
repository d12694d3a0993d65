package flipkyc

import (
	"fmt"
	"strconv"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// RejectionCode is Flip's rejected_reason_code: why a KYC review rejected an
// agent or an upload failed. Zero means no code. Flip sends it as a number, a
// numeric string or null; all decode here. Match on the code, never on the
// reason text, which Flip words differently from place to place.
type RejectionCode int

// Fix is what a company can do about a rejection; RejectionCode.Fixes lists
// them for a code.
type Fix string

// Fixes for rejection codes, as Flip's rejection table describes them.
const (
	FixRepairData          Fix = "repair_data"           // correct the identity data: RepairData
	FixRepairIdentityImage Fix = "repair_identity_image" // upload the identity image again: RepairIdentityImage
	FixRepairSelfie        Fix = "repair_selfie"         // upload the selfie with identity again: RepairSelfieWithIdentity
	FixSupportingDocuments Fix = "supporting_documents"  // send supporting documents: UploadDocuments
	FixContactFlip         Fix = "contact_flip"          // contact Flip's CX team
	FixNone                Fix = "none"                  // treated as fraud; nothing can be done
)

type rejection struct {
	message string
	fixes   []Fix
}

// rejections is Flip's table of rejection codes 10 to 33.
var rejections = map[RejectionCode]rejection{
	10: {"The data that is filled in does not match with identity card", []Fix{FixRepairData}},
	11: {"NIK does not match the format", []Fix{FixSupportingDocuments}},
	12: {"NIK already registered in another account", []Fix{FixContactFlip}},
	13: {"NIK data is bolded manually", []Fix{FixSupportingDocuments}},
	14: {"Identity card blurry or got spotlight or cannot be read", []Fix{FixRepairIdentityImage}},
	15: {"The Identity card uploaded is not (KTP/Passport/KITAS)", []Fix{FixRepairIdentityImage}},
	16: {"Identity card is not fully captured", []Fix{FixRepairIdentityImage}},
	17: {"Part of the data on the photo ID card is missing so it can't be read in its entirety", []Fix{FixRepairIdentityImage, FixSupportingDocuments}},
	18: {"If the identity card is broken up to the data section on the identity card", []Fix{FixRepairIdentityImage}},
	19: {"ID card has expired", []Fix{FixRepairIdentityImage}},
	20: {"Photo ID card is not original", []Fix{FixRepairIdentityImage}},
	21: {"The background of the user's pass photo on the ID card is not blue/red", []Fix{FixRepairIdentityImage, FixSupportingDocuments}},
	22: {"Pass photo in identity card is not original but only patch photo", []Fix{FixContactFlip}},
	23: {"Combination photos are not clearly visible or partially covered", []Fix{FixRepairSelfie}},
	24: {"Combination photos only contain face images", []Fix{FixRepairSelfie}},
	25: {"Combination photo of the user holding another identity card other than (KTP/Passport/KITAS)", []Fix{FixRepairSelfie}},
	26: {"Combination photos do not directly hold an identity card", []Fix{FixRepairSelfie}},
	27: {"Photos taken indirectly", []Fix{FixRepairSelfie}},
	28: {"User wearing veil", []Fix{FixContactFlip}},
	29: {"Indicated in violation of the Terms and Conditions of the application", []Fix{FixNone}},
	30: {"We need confirm your KYC with some data", []Fix{FixContactFlip}},
	31: {"Identity card of supporting document expired", []Fix{FixSupportingDocuments}},
	32: {"Photo of supporting document is blurry or can't be read", []Fix{FixSupportingDocuments}},
	33: {"Photo of supporting document is a random object/image", []Fix{FixSupportingDocuments}},
}

// Known reports whether c is in Flip's rejection table, codes 10 to 33.
func (c RejectionCode) Known() bool {
	_, ok := rejections[c]
	return ok
}

// Message returns Flip's documented text for c, or "" for an unknown code.
func (c RejectionCode) Message() string { return rejections[c].message }

// Fixes returns what the company can do about c, in Flip's order of
// preference, in a new slice. An unknown code gives FixContactFlip.
func (c RejectionCode) Fixes() []Fix {
	r, ok := rejections[c]
	if !ok {
		return []Fix{FixContactFlip}
	}
	return append([]Fix(nil), r.fixes...)
}

// String returns the code's digits, or "" for no code.
func (c RejectionCode) String() string {
	if c == 0 {
		return ""
	}
	return strconv.Itoa(int(c))
}

// MarshalJSON writes the code as a number, or null for no code.
func (c RejectionCode) MarshalJSON() ([]byte, error) {
	if c == 0 {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, int64(c), 10), nil
}

// UnmarshalJSON accepts a number, a numeric string, null and "" (the last
// two give zero, no code); anything else is an error.
func (c *RejectionCode) UnmarshalJSON(b []byte) error {
	text, err := decodeEnumText(b)
	if err != nil {
		return fmt.Errorf("rejected_reason_code: %w", err)
	}
	if text == "" {
		*c = 0
		return nil
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return fmt.Errorf("rejected_reason_code: want a number, got %q", redact.Excerpt([]byte(text), 16))
	}
	*c = RejectionCode(n)
	return nil
}
