package dollarpe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"unicode"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// masked stands in for personal data wherever a value is printed or kept on
// an error.
const masked = redact.Masked

// dollarpePersonal masks personal data in texts from DollarPe: the JSON
// keys below carry personal data in its requests, replies and webhooks.
var dollarpePersonal = redact.NewMasker("full_name", "name", "email", "phone", "full_address", "address",
	"dob", "tax_number", "pan", "document_number", "document_front_image_url", "document_back_image_url",
	"selfie_url", "additional_info", "additional_data")

// personalFields are the Go fields that hold personal data; printing masks
// them.
var personalFields = map[string]bool{
	"FullName": true, "Email": true, "Phone": true, "FullAddress": true, "DOB": true, "TaxNumber": true,
	"DocumentNumber": true, "DocumentFrontImageURL": true, "DocumentBackImageURL": true, "SelfieURL": true,
	"AdditionalInfo": true, "AdditionalData": true, "Raw": true,
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// formatMasked prints the struct v as "name{Field: value, …}" under every
// verb, with each set personal field shown as [masked]. JSON encoding is
// not affected.
func formatMasked(f fmt.State, name string, v any) {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	var b strings.Builder
	b.WriteString(name + "{")
	for i := range rt.NumField() {
		sf := rt.Field(i)
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(sf.Name + ": ")
		fv := rv.Field(i)
		switch {
		case personalFields[sf.Name] && !fv.IsZero():
			b.WriteString(masked)
		case sf.Type == rawMessageType && !personalFields[sf.Name]:
			// JSON that is not personal (a schema): as text, on one line,
			// not as a list of byte values.
			var c bytes.Buffer
			if json.Compact(&c, fv.Bytes()) != nil {
				c.Reset()
				c.WriteString(redact.Excerpt(fv.Bytes(), excerptLimit))
			}
			b.Write(c.Bytes())
		case fv.Kind() == reflect.Pointer && !fv.IsNil():
			fmt.Fprintf(&b, "%v", fv.Elem().Interface())
		default:
			fmt.Fprintf(&b, "%v", fv.Interface())
		}
	}
	b.WriteString("}")
	_, _ = io.WriteString(f, b.String())
}

// Format prints p with its personal fields masked, under every verb.
func (p CreateCustomerParams) Format(f fmt.State, _ rune) {
	formatMasked(f, "dollarpe.CreateCustomerParams", p)
}

// Format prints c with its personal fields masked, under every verb.
func (c Customer) Format(f fmt.State, _ rune) { formatMasked(f, "dollarpe.Customer", c) }

// Format prints d with the document number masked, under every verb.
func (d DocumentDetails) Format(f fmt.State, _ rune) { formatMasked(f, "dollarpe.DocumentDetails", d) }

// Format prints p with its personal fields masked, under every verb.
func (p AddKYCDataParams) Format(f fmt.State, _ rune) {
	formatMasked(f, "dollarpe.AddKYCDataParams", p)
}

// Format prints p with its personal fields masked, under every verb.
func (p UpdateDocumentInfoParams) Format(f fmt.State, _ rune) {
	formatMasked(f, "dollarpe.UpdateDocumentInfoParams", p)
}

// Format prints p with the tax number masked, under every verb.
func (p UpdateTaxInfoParams) Format(f fmt.State, _ rune) {
	formatMasked(f, "dollarpe.UpdateTaxInfoParams", p)
}

// Format prints p with the additional info masked, under every verb.
func (p UpdateAdditionalInfoParams) Format(f fmt.State, _ rune) {
	formatMasked(f, "dollarpe.UpdateAdditionalInfoParams", p)
}

// Format prints p with the selfie URL masked, under every verb.
func (p UpdateSelfieInfoParams) Format(f fmt.State, _ rune) {
	formatMasked(f, "dollarpe.UpdateSelfieInfoParams", p)
}

// Format prints r without its raw reply, which may hold personal data.
func (r KYCResult) Format(f fmt.State, _ rune) { formatMasked(f, "dollarpe.KYCResult", r) }

// Format prints c without its raw reply, AdditionalInfoRequired as JSON
// text.
func (c KYCConfiguration) Format(f fmt.State, _ rune) {
	formatMasked(f, "dollarpe.KYCConfiguration", c)
}

// LogValue logs p masked, as Format prints it.
func (p CreateCustomerParams) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }

// LogValue logs c masked, as Format prints it.
func (c Customer) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(c)) }

// LogValue logs d masked, as Format prints it.
func (d DocumentDetails) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(d)) }

// LogValue logs p masked, as Format prints it.
func (p AddKYCDataParams) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }

// LogValue logs p masked, as Format prints it.
func (p UpdateDocumentInfoParams) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }

// LogValue logs p masked, as Format prints it.
func (p UpdateTaxInfoParams) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }

// LogValue logs p masked, as Format prints it.
func (p UpdateAdditionalInfoParams) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }

// LogValue logs p masked, as Format prints it.
func (p UpdateSelfieInfoParams) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(p)) }

// LogValue logs d masked.
func (d Date) LogValue() slog.Value { return slog.StringValue(d.String()) }

// Format prints d masked under every verb (a birth date is personal data);
// Text gives DD-MM-YYYY on purpose.
func (d Date) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, d.String()) }

// personalValues are the forms of personal input that must never come back
// in an error's text: each value of whole, each value of free (free text:
// a name, an address) and its words (see redact.ValuesAndWords, as Katsu
// masks them), the dates in the forms a reply may write them, and every
// string and number in maps, a string with spaces in it taken as free text.
func personalValues(whole, free []string, dates []Date, maps ...map[string]any) []string {
	var w, f []string
	for _, s := range whole {
		if s = strings.TrimSpace(s); s != "" {
			w = append(w, s)
		}
	}
	for _, s := range free {
		if s = strings.TrimSpace(s); s != "" {
			f = append(f, s)
		}
	}
	for _, d := range dates {
		if d.IsZero() {
			continue
		}
		w = append(w, d.text(), fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day),
			fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year), fmt.Sprintf("%02d%02d%04d", d.Day, int(d.Month), d.Year))
	}
	var inMaps []string
	for _, m := range maps {
		inMaps = appendMapStrings(inMaps, m)
	}
	for _, s := range inMaps {
		if s = strings.TrimSpace(s); strings.ContainsFunc(s, unicode.IsSpace) {
			f = append(f, s)
		} else if s != "" {
			w = append(w, s)
		}
	}
	return redact.ValuesAndWords(w, f...)
}

// appendMapStrings adds every string in a decoded JSON value.
func appendMapStrings(out []string, v any) []string {
	switch v := v.(type) {
	case map[string]any:
		for _, x := range v {
			out = appendMapStrings(out, x)
		}
	case []any:
		for _, x := range v {
			out = appendMapStrings(out, x)
		}
	case string:
		if v != "" {
			out = append(out, v)
		}
	case json.Number:
		out = append(out, v.String())
	case fmt.Stringer:
		out = append(out, v.String())
	}
	return out
}

func (p *CreateCustomerParams) personal() []string {
	return personalValues([]string{p.Email, p.Phone}, []string{p.FullName}, nil)
}

func (p *AddKYCDataParams) personal() []string {
	return personalValues([]string{p.Phone, p.TaxNumber, p.DocumentFrontImageURL, p.DocumentBackImageURL,
		p.DocumentDetails.DocumentNumber, p.SelfieURL}, []string{p.FullName, p.FullAddress}, []Date{p.DOB},
		p.AdditionalInfo, p.DocumentDetails.AdditionalData)
}

func (p *UpdateDocumentInfoParams) personal() []string {
	return personalValues([]string{p.DocumentFrontImageURL, p.DocumentBackImageURL, p.DocumentDetails.DocumentNumber},
		[]string{p.FullAddress}, nil, p.DocumentDetails.AdditionalData)
}
