package fleet

import (
	"fmt"
	"log/slog"
)

// maskedValue stands for a personal value in printed rows and corrections.
const maskedValue = "[masked]"

// mask returns maskedValue for a value that was given, "" for one that
// was not.
func mask(v string) string {
	if v == "" {
		return ""
	}
	return maskedValue
}

// Format prints the row under every verb with its personal values masked:
// the agent's parameters as flipkyc.AgentParams prints them, the photos'
// paths (a file name may carry a name) and the place names.
func (r Row) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "fleet.Row{Line: %d, Params: %v, IdentityImage: %s, SelfieImage: %s, Images: %s, Places: %s}",
		r.Line, r.Params, mask(r.IdentityImage), mask(r.SelfieImage), r.Images,
		mask(r.Places.Country+r.Places.Province+r.Places.City+r.Places.District))
}

// LogValue logs the row with its personal values masked.
func (r Row) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(r)) }

// Format prints the correction under every verb with its personal values
// masked: the identity number, the corrected data as
// flipkyc.RepairDataParams prints it, the photos' and documents' paths,
// and of the photos given as bytes only their size.
func (r Repair) Format(f fmt.State, _ rune) {
	data := "<nil>"
	if r.Data != nil {
		data = fmt.Sprint(*r.Data)
	}
	fmt.Fprintf(f, "fleet.Repair{Line: %d, IdentityNumber: %s, AgentLine: %d, Data: %s, IdentityImage: %s, SelfieImage: %s, "+
		"IdentityImageData: %d bytes, SelfieImageData: %d bytes, Images: %s, Documents: %v, AgentID: %d, NotCreated: %s}",
		r.Line, mask(r.IdentityNumber), r.AgentLine, data, mask(r.IdentityImage), mask(r.SelfieImage),
		len(r.IdentityImageData), len(r.SelfieImageData), r.Images, r.Documents, r.AgentID, r.NotCreated)
}

// LogValue logs the correction with its personal values masked.
func (r Repair) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(r)) }

// Format prints the document under every verb with its path masked and of
// its bytes only their size.
func (d DocumentFile) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "fleet.DocumentFile{Type: %s, Selfie: %t, Path: %s, Data: %d bytes}", d.Type, d.Selfie, mask(d.Path), len(d.Data))
}

// LogValue logs the document with its path masked.
func (d DocumentFile) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(d)) }
