package fleet

import (
	"errors"
	"testing"

	"github.com/flipkyc/flipkyc"
)

// Each reason a step parks an agent for has one way out, by where it was
// parked and whether Flip gave it an id.
func TestWayOutOfEachCause(t *testing.T) {
	refused := &flipkyc.APIError{Op: "CreateAgent", StatusCode: 422, Errors: []flipkyc.ErrorDetail{{Attribute: "address", Code: 1041, Message: "Invalid attribute"}}}
	forbidden := &flipkyc.APIError{Op: "CreateAgent", StatusCode: 403}
	phone := &flipkyc.APIError{Op: "CreateAgent", StatusCode: 409, Errors: []flipkyc.ErrorDetail{{Attribute: "phone_number", Code: 2002, Message: "Phone number has been used/registered"}}}
	both := &flipkyc.APIError{Op: "CreateAgent", StatusCode: 422, Errors: []flipkyc.ErrorDetail{phone.Errors[0], {Attribute: "identity_number", Code: 2002}}}
	const rid = "bigflip-00000000-0000-0000-0000-000000000000"
	for _, c := range []struct {
		cause   string
		from    string
		agentID int64
		rid     string
		reason  string
		want    string
	}{
		{"create outcome unknown", StateCreating, 0, rid, "create outcome unknown (Request-ID …)", WayOutAgentID},
		{"already registered", StateCreating, 0, rid, "identity or phone number already registered at Flip (code 2002 or 4012, …)", WayOutAgentID},
		{"create refused for its data", StateCreating, 0, rid, createRefusal(refused), WayOutRepair},
		{"create refused by the SDK's checks", StateNew, 0, "", createRefusal(&flipkyc.ValidationError{}), WayOutRepair},
		{"create turned away", StateCreating, 0, rid, createRefusal(forbidden), WayOutResume},
		{"phone number held by another agent", StateCreating, 0, rid, createRefusal(phone), WayOutRepair},
		{"create failed for good", StateNew, 0, "", "fleet_create failed 25 times, last: …", WayOutResume},
		{"identity image unreadable", StateUploadingIdentity, 7, rid, reasonUnreadableImage + "identity image of line 2: no such file", WayOutRepair},
		{"image refused", StateUploadingSelfie, 7, rid, reasonImageRefused + "…", WayOutRepair},
		{"upload refused", StateUploadingIdentity, 7, rid, reasonUploadRefused + " in status …", WayOutRepair},
		{"corrected data refused", StateCreated, 7, rid, reasonDataRefused + "…", WayOutRepair},
		{"stored correction at the uploads", StateCreated, 7, rid, reasonStoredCorrection + "…", WayOutRepair},
		{"upload failed for good", StateUploadingIdentity, 7, rid, "fleet_upload failed 25 times, last: …", WayOutResume},
		{"submission refused", StateSubmitting, 7, rid, "Flip refused the submission: …", WayOutResume},
		{"corrected image unreadable", StateRepairing, 7, rid, reasonCorrectionUnreadable + "no such file", WayOutRepair},
		{"document unreadable", StateRepairing, 7, rid, reasonDocumentUnreadable + "no such file", WayOutRepair},
		{"correction refused", StateRepairing, 7, rid, reasonCorrectionRefused + "…", WayOutRepair},
		{"stored correction at the correction", StateRepairing, 7, rid, reasonStoredCorrection + "…", WayOutRepair},
		{"correction failed for good", StateRepairing, 7, rid, "fleet_repair failed 25 times, last: …", WayOutResume},
	} {
		if got := wayOut(c.from, c.rid, c.agentID, c.reason); got != c.want {
			t.Errorf("%s: way out %s, want %s", c.cause, got, c.want)
		}
	}
	if !errors.Is(refused, flipkyc.ErrInvalidRequest) || errors.Is(forbidden, flipkyc.ErrInvalidRequest) || errors.Is(phone, flipkyc.ErrInvalidRequest) {
		t.Fatal("the refusals of the table are not what they claim")
	}
	for _, c := range []struct {
		err  error
		want bool
	}{{phone, true}, {both, false}, {&flipkyc.APIError{StatusCode: 422, Errors: []flipkyc.ErrorDetail{{Attribute: "phone_[masked]", Code: 2002}}}, true}, {refused, false}, {&flipkyc.APIError{StatusCode: 422, Errors: []flipkyc.ErrorDetail{{Code: 2002}}}, false}} {
		if got := phoneTaken(c.err); got != c.want {
			t.Errorf("phoneTaken(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
