package flipkyc

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// masked stands in for personal data wherever a value is printed or kept on
// an error.
const masked = redact.Masked

// flipPersonal masks personal data in texts from Flip: the JSON and form
// keys below are those whose values are personal data in Flip's requests,
// replies and callbacks.
var flipPersonal = redact.NewMasker("name", "agent_name", "identity_number", "nik", "passport_number",
	"phone_number", "phone", "email", "birth_date", "birth_place", "address", "residence_address")

// fileNames are the names of uploaded files, which may carry a person's
// name.
type fileNames []string

func (f fileNames) personalValues() []string {
	values := make([]string, 0, 2*len(f))
	for _, name := range f {
		values = append(values, name, strings.TrimSuffix(name, path.Ext(name)))
	}
	return values
}

// personalFields are the Go fields of the SDK's data types that hold
// personal data; printing masks them.
var personalFields = map[string]bool{
	"Name": true, "AgentName": true, "IdentityNumber": true, "NIK": true, "PassportNumber": true,
	"BirthDate": true, "BirthPlace": true, "Address": true, "ResidenceAddress": true,
	"PhoneNumber": true, "Email": true,
}

// formatMasked prints the struct v as "name{Field: value, …}" under every
// verb, with each set personal field shown as [masked], so that a data type
// printed into a log by mistake gives nothing away. JSON encoding is not
// affected: it is how a caller stores the data on purpose.
func formatMasked(f fmt.State, name string, v any) {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	var b strings.Builder
	b.WriteString(name + "{")
	first := true
	for i := range rt.NumField() {
		sf := rt.Field(i)
		if !sf.IsExported() {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(sf.Name + ": ")
		fv := rv.Field(i)
		switch {
		case personalFields[sf.Name] && !fv.IsZero():
			b.WriteString(masked)
		case fv.Kind() == reflect.Pointer && !fv.IsNil():
			fmt.Fprintf(&b, "%v", fv.Elem().Interface())
		default:
			fmt.Fprintf(&b, "%v", fv.Interface())
		}
	}
	b.WriteString("}")
	_, _ = io.WriteString(f, b.String())
}

// Format prints the agent under every verb with its personal data masked.
func (a Agent) Format(f fmt.State, _ rune) { formatMasked(f, "flipkyc.Agent", a) }

// Format prints the parameters under every verb with personal data masked.
func (p AgentParams) Format(f fmt.State, _ rune) { formatMasked(f, "flipkyc.AgentParams", p) }

// Format prints the KYC record under every verb with personal data masked.
func (u KYCUser) Format(f fmt.State, _ rune) { formatMasked(f, "flipkyc.KYCUser", u) }

// Format prints the parameters under every verb with personal data masked.
func (p RepairDataParams) Format(f fmt.State, _ rune) {
	formatMasked(f, "flipkyc.RepairDataParams", p)
}

// Format prints the image under every verb with its file name, which may
// carry a person's name, masked, and only the type of its content.
func (img Image) Format(f fmt.State, _ rune) {
	name := ""
	if img.Name != "" {
		name = masked
	}
	fmt.Fprintf(f, "flipkyc.Image{Name: %s, Content: %T}", name, img.Content)
}

// personalForms returns values with the words of the free-text ones
// (names, places, addresses): a reply may echo "Name Bambang is not on the
// identity card" for "Bambang Sutrisno". Words shorter than four letters are
// left out, as too common. Longer values come first, so that a whole value
// is masked as one.
func personalForms(whole []string, free ...string) []string {
	out := append([]string(nil), whole...)
	for _, v := range free {
		out = append(out, v)
		for _, w := range strings.Fields(v) {
			if utf8.RuneCountInString(w) >= 4 {
				out = append(out, w)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// dateForms returns the ways a reply may write d: Flip's DD-MM-YYYY, ISO,
// and in words.
func dateForms(d Date) []string {
	if d.IsZero() {
		return nil
	}
	t := d.Time()
	return []string{d.String(), t.Format("2006-01-02"), t.Format("02/01/2006"), t.Format("2 January 2006"),
		t.Format("January 2, 2006"), t.Format("2 Jan 2006")}
}

// MarshalJSON writes the image without its file name, which may carry a
// person's name, and without its content.
func (img Image) MarshalJSON() ([]byte, error) {
	name := ""
	if img.Name != "" {
		name = masked
	}
	return json.Marshal(map[string]string{"name": name, "content": fmt.Sprintf("%T", img.Content)})
}

// LogValue logs the agent as it prints, personal data masked.
func (a Agent) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(a)) }

// LogValue logs the parameters as they print, personal data masked.
func (p AgentParams) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }

// LogValue logs the KYC record as it prints, personal data masked.
func (u KYCUser) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(u)) }

// LogValue logs the parameters as they print, personal data masked.
func (p RepairDataParams) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }

// LogValue logs the image as it prints, its file name masked.
func (img Image) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(img)) }

// LogValue logs the document as it prints, its file name masked.
func (d Document) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(d)) }
