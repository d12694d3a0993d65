package katsu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// katsuPersonal masks personal data in texts from Katsu: the JSON and form
// keys below are those whose values are personal data in Katsu's records
// and in the forms a reply might add.
var katsuPersonal = redact.NewMasker("bvn", "name", "fullName", "firstName", "middleName", "lastName",
	"phone", "phoneNumber", "email", "address", "dateOfBirth", "dob")

// personalForms returns the values given, and the words of four letters or
// more of each free-text one (a reply may echo "Chiamaka is not allowed"
// for "Chiamaka Obi"), longest first so that a whole value is masked as one.
func personalForms(whole []string, free ...string) []string {
	var out []string
	for _, v := range whole {
		if v != "" {
			out = append(out, v)
		}
	}
	for _, v := range free {
		if v == "" {
			continue
		}
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
		out = append(out, personalForms([]string{r.BVN}, r.Name)...)
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

// Format prints the record under every verb with Name and BVN masked.
func (r Record) Format(f fmt.State, _ rune) {
	approved := "-"
	if !r.ApprovedOn.IsZero() {
		approved = r.ApprovedOn.Format("2006-01-02T15:04:05Z07:00")
	}
	tier := r.Tier.String()
	if r.TierText != "" {
		tier += fmt.Sprintf("(%q)", r.TierText)
	}
	_, _ = fmt.Fprintf(f, "katsu.Record{ID: %s, Tier: %s, Name: %s, TenantID: %s, OwnerID: %s, Approved: %t, IsTenant: %t, IsAddressVerified: %t, ApprovedOn: %s, BVN: %s, Status: %s}",
		r.ID, tier, maskIf(r.Name), r.TenantID, r.OwnerID, r.Approved, r.IsTenant, r.IsAddressVerified, approved, maskIf(r.BVN), r.Status)
}

// LogValue logs the record as a group, with Name and BVN masked.
func (r Record) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", r.ID), slog.String("tier", r.Tier.String()),
		slog.String("name", maskIf(r.Name)), slog.String("tenantId", r.TenantID), slog.String("ownerId", r.OwnerID),
		slog.Bool("approved", r.Approved), slog.Bool("isTenant", r.IsTenant),
		slog.Bool("isAddressVerified", r.IsAddressVerified), slog.Time("approvedOn", r.ApprovedOn),
		slog.String("bvn", maskIf(r.BVN)), slog.String("status", r.Status))
}

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
