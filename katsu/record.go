package katsu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tier is a KYC tier, 0 to 2. Requests and list filters send it as a JSON
// number; Katsu's replies write it as a string, which the client reads in
// the plausible forms "1", 1, "Tier1", "tier 1", "Tier_1" and "Level1".
// A reply's tier that is none of these is TierUnknown, and the record keeps
// the text in TierText.
type Tier int

// The tiers Katsu documents, and the value of a tier that could not be
// read.
const (
	Tier0       Tier = 0
	Tier1       Tier = 1
	Tier2       Tier = 2
	TierUnknown Tier = -1
)

// Valid reports whether t is one of the documented tiers, 0 to 2.
func (t Tier) Valid() bool { return t >= Tier0 && t <= Tier2 }

// String returns "Tier0", "Tier1", "Tier2", "TierUnknown" or, for a number
// outside the documented range, "Tier" followed by it.
func (t Tier) String() string {
	if t == TierUnknown {
		return "TierUnknown"
	}
	return "Tier" + strconv.Itoa(int(t))
}

// MarshalJSON writes the tier as a JSON number, as Katsu's requests take it.
func (t Tier) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(t), 10), nil }

// UnmarshalJSON reads a tier written as a number or a string (see Tier);
// text it cannot read gives TierUnknown, and null leaves t unchanged.
func (t *Tier) UnmarshalJSON(b []byte) error {
	v, _, err := decodeTier(b)
	if err != nil {
		return err
	}
	if v != nil {
		*t = *v
	}
	return nil
}

// ParseTier reads a tier from text in the forms Tier describes and reports
// whether it could.
func ParseTier(s string) (Tier, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, prefix := range []string{"tier", "level"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			s = strings.TrimLeft(rest, " _-")
			break
		}
	}
	if s == "" || len(s) > 4 {
		return TierUnknown, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || s[0] == '+' {
		return TierUnknown, false
	}
	return Tier(n), true
}

// decodeTier reads a JSON tier: nil for null, with the text of a string the
// tier could not be read from.
func decodeTier(b []byte) (*Tier, string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil, "", nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, "", fmt.Errorf("tier: %w", err)
		}
		if t, ok := ParseTier(s); ok {
			return &t, "", nil
		}
		t := TierUnknown
		return &t, s, nil
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, "", errors.New("tier is neither a number nor a string")
		}
		if f != float64(int64(f)) || f < 0 || f > 1e6 {
			t := TierUnknown
			return &t, string(b), nil
		}
		t := Tier(int64(f))
		return &t, "", nil
	}
}

// Record is a customer's KYC record as Katsu returns it. It prints (under
// every fmt verb) and logs with Name and BVN masked, and personal data in
// Status and TierText masked. JSON encoding keeps them, on purpose, for
// storing the record: so a JSON log handler given a []Record or a map of
// records, which it encodes with encoding/json, logs them in clear. Log a
// Records (as Page.Records is), a Page or each Record instead.
type Record struct {
	// ID is the record's id, a UUID: the kycId of Update and Approve.
	ID string `json:"id"`
	// Tier is the record's KYC tier; TierUnknown when a reply gives none,
	// null, or one that cannot be read.
	Tier Tier `json:"tier"`
	// TierText is the reply's tier when it could not be read (Tier is then
	// TierUnknown); empty otherwise.
	TierText string `json:"-"`
	// Name is the customer's name. Personal data.
	Name string `json:"name"`
	// TenantID is the tenant the record belongs to, a UUID.
	TenantID string `json:"tenantId"`
	// OwnerID is the owner of the record, a UUID.
	OwnerID string `json:"ownerId"`
	// Approved reports whether the record has been approved.
	Approved bool `json:"approved"`
	// IsTenant reports whether the record is a tenant's.
	IsTenant bool `json:"isTenant"`
	// IsAddressVerified reports whether the customer's address is verified.
	IsAddressVerified bool `json:"isAddressVerified"`
	// ApprovedOn is when the record was approved, in UTC when the reply
	// gives no offset; zero when not approved, null, or unreadable.
	ApprovedOn time.Time `json:"approvedOn"`
	// BVN is the customer's Bank Verification Number. Personal data.
	BVN string `json:"bvn"`
	// Status is the record's status as Katsu writes it; its values are not
	// documented.
	Status string `json:"status"`
}

// recordWire is Record as replies write it, every field read leniently.
type recordWire struct {
	ID                lenientString   `json:"id"`
	Tier              json.RawMessage `json:"tier"`
	Name              lenientString   `json:"name"`
	TenantID          lenientString   `json:"tenantId"`
	OwnerID           lenientString   `json:"ownerId"`
	Approved          lenientBool     `json:"approved"`
	IsTenant          lenientBool     `json:"isTenant"`
	IsAddressVerified lenientBool     `json:"isAddressVerified"`
	ApprovedOn        lenientString   `json:"approvedOn"`
	BVN               lenientString   `json:"bvn"`
	Status            lenientString   `json:"status"`
}

// UnmarshalJSON reads a record as Katsu's replies write it, tolerating the
// drift the documentation shows: the tier as a number or a string, ids,
// BVN and status as numbers, booleans as "true"/"false", null anywhere,
// and approvedOn in ISO-8601 with or without offset or fraction.
func (r *Record) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var w recordWire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("KYC record: %w", err)
	}
	t, text, err := decodeTier(w.Tier)
	if err != nil {
		return fmt.Errorf("KYC record: %w", err)
	}
	*r = Record{
		ID: string(w.ID), Name: string(w.Name), TenantID: string(w.TenantID), OwnerID: string(w.OwnerID),
		Approved: bool(w.Approved), IsTenant: bool(w.IsTenant), IsAddressVerified: bool(w.IsAddressVerified),
		ApprovedOn: parseTime(string(w.ApprovedOn)), BVN: string(w.BVN), Status: string(w.Status), TierText: text,
	}
	r.Tier = TierUnknown
	if t != nil {
		r.Tier = *t
	}
	return nil
}

// timeLayouts are the ISO-8601 forms approvedOn may take: with an offset,
// without one (.NET's DateTime, read as UTC), and a bare date.
var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02",
}

// parseTime reads an ISO-8601 time; the zero time for empty or unreadable
// text and for .NET's minimum date, 0001-01-01.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() <= 1 {
				return time.Time{}
			}
			return t.UTC()
		}
	}
	return time.Time{}
}

// lenientString reads a JSON string, number or boolean as its text and null
// as "".
type lenientString string

// UnmarshalJSON reads a string, number, boolean or null.
func (s *lenientString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = lenientString(v)
	case b[0] == '{' || b[0] == '[':
		return errors.New("object or array where text was expected")
	default:
		if !json.Valid(b) {
			return errors.New("invalid JSON value")
		}
		*s = lenientString(b)
	}
	return nil
}

// lenientBool reads true, false, "true", "false", 1, 0 and null (false).
type lenientBool bool

// UnmarshalJSON reads a boolean in any of its lenient forms.
func (v *lenientBool) UnmarshalJSON(b []byte) error {
	var s lenientString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "true", "1", "yes":
		*v = true
	case "false", "0", "no", "":
		*v = false
	default:
		return errors.New("not a boolean")
	}
	return nil
}

// Page is one page of List's records, with the pagination Katsu's reply
// gives. Katsu does not document the pagination fields; the client reads
// them under the common names (pageNumber or currentPage, pageSize,
// totalPages, totalCount or totalRecords, hasNextPage or nextPage,
// hasPreviousPage or previousPage), whether beside the records in data or
// beside data in the envelope, in any case (of names that differ only in
// case, the last in the reply wins). A field the reply does not give is
// zero.
type Page struct {
	// Records are the page's records.
	Records Records
	// PageNumber is the page's number, from 1.
	PageNumber int
	// PageSize is the most records a page holds.
	PageSize int
	// TotalPages is how many pages the query has.
	TotalPages int
	// TotalCount is how many records the query matches.
	TotalCount int
	// HasNext reports whether a page follows: as the reply says, else
	// computed from the totals, else (when the reply gives no pagination
	// at all) whether this page is full.
	HasNext bool
	// HasPrevious reports whether a page precedes this one.
	HasPrevious bool
}

// itemKeys are where a data object may hold the page's records.
var itemKeys = []string{"items", "data", "records", "results", "list", "content", "rows", "value"}

// decodePage reads List's data (and the envelope's other fields, top) as a
// page; requested is the page size asked for, or 0.
func decodePage(data json.RawMessage, top map[string]json.RawMessage, requested int) (Page, error) {
	p, _, err := decodePageItems(data, top, requested)
	return p, err
}

// decodePageItems is decodePage that also returns the page's list of
// records as the reply wrote it.
func decodePageItems(data json.RawMessage, top map[string]json.RawMessage, requested int) (Page, json.RawMessage, error) {
	var p Page
	data = bytes.TrimSpace(data)
	fields := map[string]json.RawMessage{}
	var items json.RawMessage
	switch {
	case len(data) == 0 || string(data) == "null":
		return p, nil, errors.New("no data")
	case data[0] == '[':
		items = data
	case data[0] == '{':
		obj, err := objectFields(data)
		if err != nil {
			return p, nil, err
		}
		fields = obj
		for _, k := range itemKeys {
			if v, ok := fields[k]; ok && len(bytes.TrimSpace(v)) > 0 && bytes.TrimSpace(v)[0] == '[' {
				items = v
				break
			}
		}
		if items == nil {
			return p, nil, errors.New("data holds no list of records")
		}
	default:
		return p, nil, errors.New("data is neither a list nor an object")
	}
	if err := json.Unmarshal(items, &p.Records); err != nil {
		return p, nil, err
	}
	lookup := func(keys ...string) (json.RawMessage, bool) {
		for _, m := range []map[string]json.RawMessage{fields, top} {
			for _, k := range keys {
				if v, ok := m[k]; ok {
					return v, true
				}
			}
		}
		return nil, false
	}
	number := func(keys ...string) (int, bool) {
		v, ok := lookup(keys...)
		if !ok {
			return 0, false
		}
		var s lenientString
		if s.UnmarshalJSON(v) != nil {
			return 0, false
		}
		n, err := strconv.Atoi(string(s))
		if err != nil || n < 0 {
			return 0, false
		}
		return n, true
	}
	flag := func(boolKeys []string, linkKeys []string) (bool, bool) {
		if v, ok := lookup(boolKeys...); ok {
			var b lenientBool
			if b.UnmarshalJSON(v) == nil {
				return bool(b), true
			}
		}
		if v, ok := lookup(linkKeys...); ok {
			var s lenientString
			if s.UnmarshalJSON(v) == nil {
				return s != "", true
			}
		}
		return false, false
	}
	var given bool
	p.PageNumber, given = number("pagenumber", "currentpage", "page")
	p.PageSize, _ = number("pagesize", "perpage")
	p.TotalPages, _ = number("totalpages", "pagecount")
	p.TotalCount, _ = number("totalcount", "totalrecords", "totalitems", "total")
	p.HasPrevious, _ = flag([]string{"haspreviouspage", "hasprevious"}, []string{"previouspage"})
	hasNext, known := flag([]string{"hasnextpage", "hasnext"}, []string{"nextpage"})
	switch {
	case known:
		p.HasNext = hasNext
	case given && p.TotalPages > 0:
		p.HasNext = p.PageNumber < p.TotalPages
	case given && p.PageSize > 0 && p.TotalCount > 0:
		p.HasNext = p.PageNumber*p.PageSize < p.TotalCount
	default:
		size := p.PageSize
		if size == 0 {
			size = requested
		}
		p.HasNext = size > 0 && len(p.Records) >= size
	}
	if len(p.Records) == 0 {
		p.HasNext = false
	}
	return p, items, nil
}
