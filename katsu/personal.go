package katsu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// katsuPersonal masks personal data in texts from Katsu: the JSON and form
// keys below are those whose values are personal data in Katsu's records
// and in the forms a reply might add.
var katsuPersonal = redact.NewMasker("bvn", "name", "fullName", "firstName", "middleName", "lastName",
	"phone", "phoneNumber", "email", "address", "dateOfBirth", "dob")

// replyPersonal returns the name and BVN of the records in a reply's data,
// so that the reply's message and errors are masked of them too.
func replyPersonal(env envelope) []string {
	data := bytes.TrimSpace(env.data)
	if len(data) == 0 {
		return nil
	}
	var records []Record
	switch data[0] {
	case '{':
		var r Record
		if json.Unmarshal(data, &r) == nil {
			records = append(records, r)
		}
		if p, err := decodePage(data, nil, 0); err == nil {
			records = append(records, p.Records...)
		}
	case '[':
		_ = json.Unmarshal(data, &records)
	}
	var out []string
	for _, r := range records {
		out = append(out, redact.ValuesAndWords([]string{r.BVN}, r.Name)...)
	}
	return out
}

// maskIf returns redact.Masked for a non-empty personal value, and "" for
// an empty one.
func maskIf(v string) string {
	if v == "" {
		return ""
	}
	return redact.Masked
}

// maskText returns s, free text of Katsu's such as a status, with personal
// data masked: the record's own name and BVN, e-mail addresses and long
// digit runs.
func (r Record) maskText(s string) string {
	if s == "" {
		return ""
	}
	return katsuPersonal.Text(s, redact.ValuesAndWords([]string{r.BVN}, r.Name))
}

// masked returns the record with its personal data masked, as it prints.
func (r Record) masked() Record {
	m := r
	m.Name, m.BVN = maskIf(r.Name), maskIf(r.BVN)
	m.Status, m.TierText = r.maskText(r.Status), r.maskText(r.TierText)
	return m
}

// Format prints the record under every verb with Name and BVN masked, and
// personal data masked in Status and TierText.
func (r Record) Format(f fmt.State, _ rune) {
	m := r.masked()
	approved := "-"
	if !m.ApprovedOn.IsZero() {
		approved = m.ApprovedOn.Format("2006-01-02T15:04:05Z07:00")
	}
	tier := m.Tier.String()
	if m.TierText != "" {
		tier += fmt.Sprintf("(%q)", m.TierText)
	}
	_, _ = fmt.Fprintf(f, "katsu.Record{ID: %s, Tier: %s, Name: %s, TenantID: %s, OwnerID: %s, Approved: %t, IsTenant: %t, IsAddressVerified: %t, ApprovedOn: %s, BVN: %s, Status: %s}",
		m.ID, tier, m.Name, m.TenantID, m.OwnerID, m.Approved, m.IsTenant, m.IsAddressVerified, approved, m.BVN, m.Status)
}

// LogValue logs the record as a group, masked as it prints.
func (r Record) LogValue() slog.Value {
	m := r.masked()
	return slog.GroupValue(slog.String("id", m.ID), slog.String("tier", m.Tier.String()),
		slog.String("name", m.Name), slog.String("tenantId", m.TenantID), slog.String("ownerId", m.OwnerID),
		slog.Bool("approved", m.Approved), slog.Bool("isTenant", m.IsTenant),
		slog.Bool("isAddressVerified", m.IsAddressVerified), slog.Time("approvedOn", m.ApprovedOn),
		slog.String("bvn", m.BVN), slog.String("status", m.Status))
}

// Records is a list of KYC records: Page.Records, and the records
// katsutest.Server.Records returns. It prints under every verb and logs
// with each record masked as Record prints, under slog's JSON handler too
// (a list of objects with name and bvn "[masked]"). json.Marshal keeps the
// data, for storing on purpose. A plain []Record or map of records is
// encoded by a JSON log handler with encoding/json, data included: convert
// it, katsu.Records(list), or log each Record.
type Records []Record

// Format prints the records, each masked as Record prints, between
// brackets.
func (rs Records) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "[")
	for i, r := range rs {
		if i > 0 {
			_, _ = io.WriteString(f, " ")
		}
		r.Format(f, 'v')
	}
	_, _ = io.WriteString(f, "]")
}

// LogValue logs the records as a list, each with its personal data masked.
func (rs Records) LogValue() slog.Value {
	out := make(maskedRecords, len(rs))
	for i, r := range rs {
		out[i] = r.masked()
	}
	return slog.AnyValue(out)
}

// maskedRecords are records already masked, for a log handler to encode
// or print.
type maskedRecords []Record

// Format prints the parameters under every verb with the BVN masked.
func (p UpdateParams) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "katsu.UpdateParams{KYCID: %s, Tier: %s, AddressVerified: %t, BVN: %s}",
		p.KYCID, p.Tier, p.AddressVerified, maskIf(p.BVN))
}

// LogValue logs the parameters as a group, with the BVN masked.
func (p UpdateParams) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kycId", p.KYCID), slog.String("tier", p.Tier.String()),
		slog.Bool("addressVerified", p.AddressVerified), slog.String("bvn", maskIf(p.BVN)))
}

// Format prints the page under every verb with its records' personal data
// masked.
func (p Page) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "katsu.Page{PageNumber: %d, PageSize: %d, TotalPages: %d, TotalCount: %d, HasNext: %t, HasPrevious: %t, Records: %v}",
		p.PageNumber, p.PageSize, p.TotalPages, p.TotalCount, p.HasNext, p.HasPrevious, p.Records)
}

// LogValue logs the page's pagination and record count, no record data.
func (p Page) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("pageNumber", p.PageNumber), slog.Int("pageSize", p.PageSize),
		slog.Int("totalPages", p.TotalPages), slog.Int("totalCount", p.TotalCount),
		slog.Bool("hasNext", p.HasNext), slog.Int("records", len(p.Records)))
}
