package flipkyc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// masked stands in for personal data (names, identity and phone numbers,
// e-mail addresses, birth dates, addresses) wherever a value is printed or
// kept on an error.
const masked = "[masked]"

// Patterns of personal data that can be recognised in free text: e-mail
// addresses, and runs of six or more digits, which may be separated by single
// spaces, dashes, dots or slashes (identity numbers, phone numbers, dates).
var (
	emailPattern  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	digitsPattern = regexp.MustCompile(`\+?[0-9](?:[ \-./]?[0-9]){5,}`)
)

// minKnownLen is the shortest value of a call's own input that maskText
// replaces wherever it appears; shorter ones would mask ordinary words.
const minKnownLen = 3

// maskText returns s with personal data replaced by [masked]: every value
// of known (the personal data the call itself sent) wherever it appears,
// the values of personal keys in JSON or form text, e-mail addresses, and
// long digit runs. Text that holds none is returned
// unchanged.
func maskText(s string, known []string) string {
	for _, k := range known {
		if len(k) < minKnownLen {
			continue
		}
		// In any case (identity cards are echoed in capitals), and with
		// spaces written as "+", as a form body writes them.
		pattern := regexp.QuoteMeta(k)
		if strings.Contains(k, " ") {
			pattern = strings.ReplaceAll(pattern, " ", `[ +]`)
		}
		re, err := regexp.Compile(`(?i)` + pattern)
		if err == nil && re.MatchString(s) {
			s = re.ReplaceAllLiteralString(s, masked)
		}
	}
	if strings.IndexByte(s, '"') >= 0 {
		s = personalPair.ReplaceAllString(s, `"$1":"`+masked+`"`)
	}
	if strings.IndexByte(s, '=') >= 0 {
		s = personalFormPair.ReplaceAllString(s, `$1=`+masked)
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailPattern.ReplaceAllString(s, masked)
	}
	if strings.ContainsAny(s, "0123456789") {
		s = digitsPattern.ReplaceAllString(s, masked)
	}
	return s
}

// personalKeys are the JSON keys whose values are personal data in Flip's
// requests, replies and callbacks, lower-cased.
var personalKeys = map[string]bool{
	"name": true, "agent_name": true, "identity_number": true, "nik": true, "passport_number": true,
	"phone_number": true, "phone": true, "email": true, "birth_date": true, "birth_place": true,
	"address": true, "residence_address": true,
}

// maskJSON returns v, a decoded JSON value, with the values of personal
// keys replaced by [masked] and every other string passed through clean.
func maskJSON(v any, clean func(string) string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, val := range v {
			switch {
			case personalKeys[strings.ToLower(k)] && val != nil:
				out[k] = masked
			default:
				// Keys are text from the reply too: a server may put an
				// echoed value, or the key, in one.
				out[clean(k)] = maskJSON(val, clean)
			}
		}
		return out
	case []any:
		for i, val := range v {
			v[i] = maskJSON(val, clean)
		}
		return v
	case string:
		return clean(v)
	case json.Number:
		if digitsPattern.MatchString(string(v)) {
			return masked
		}
		return v
	}
	return v
}

// maskBody returns at most limit bytes of a reply body as printable text
// for an error to keep: in a JSON body the values of personal keys are
// masked and every other string goes through clean; any other body goes
// through clean whole. clean removes secrets and masks personal data.
func maskBody(body []byte, limit int, clean func(string) string) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if enc.Encode(maskJSON(v, clean)) == nil {
			return excerpt(bytes.TrimSpace(b.Bytes()), limit)
		}
	}
	// Not JSON, or JSON cut short: clean the whole text before cutting it,
	// so that a value cut in two by the limit is still found.
	return excerpt([]byte(clean(string(body))), limit)
}

// personalPair matches a personal key and its value in JSON text that may
// be cut short, and personalFormPair one in form text, so that the value can
// be masked without decoding the text.
var personalPair, personalFormPair = func() (*regexp.Regexp, *regexp.Regexp) {
	keys := make([]string, 0, len(personalKeys))
	for k := range personalKeys {
		keys = append(keys, regexp.QuoteMeta(k))
	}
	slices.Sort(keys)
	alt := strings.Join(keys, "|")
	return regexp.MustCompile(`(?i)"(` + alt + `)"\s*:\s*(?:"(?:[^"\\]|\\.)*"?|[^,}\]\s]+)`),
		regexp.MustCompile(`(?i)\b(` + alt + `)=[^&\s]*`)
}()

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
