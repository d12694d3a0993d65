package katsu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// UpdateParams are the inputs of Update. They print and log with the BVN
// masked; JSON encoding keeps it, for queueing an update on purpose, so a
// JSON log handler given a []UpdateParams logs the BVNs: log each
// UpdateParams instead.
type UpdateParams struct {
	// KYCID is the record to update, a UUID (kycId).
	KYCID string
	// Tier is the record's new tier, 0 to 2.
	Tier Tier
	// AddressVerified says whether the customer's address is verified.
	AddressVerified bool
	// BVN is the customer's Bank Verification Number, exactly 11 digits.
	// Personal data.
	BVN string
}

// updateBody is Update's JSON body, in the documented member order.
type updateBody struct {
	Tier            int    `json:"tier"`
	AddressVerified bool   `json:"addressVerified"`
	BVN             string `json:"bvn"`
	KYCID           string `json:"kycId"`
}

// check returns a *ValidationError when p breaks a documented rule.
func (p UpdateParams) check() error {
	var v validator
	v.add(!p.Tier.Valid(), "tier", "must be 0, 1 or 2")
	v.add(!isBVN(p.BVN), "bvn", "must be exactly 11 digits")
	v.uuid(p.KYCID, "kycId", true)
	return v.err("Update")
}

// Update sends a customer's KYC details, POST /api/v{version}/Kyc/update,
// and returns the updated record (a success reply without the record, or
// with another one, is a *DecodeError). It is never repeated once it may have
// reached Katsu: such a failure is an *OutcomeUnknownError.
func (c *Client) Update(ctx context.Context, p UpdateParams, opts ...CallOption) (Record, error) {
	if err := p.check(); err != nil {
		return Record{}, err
	}
	body, err := json.Marshal(updateBody{Tier: int(p.Tier), AddressVerified: p.AddressVerified, BVN: p.BVN, KYCID: p.KYCID})
	if err != nil {
		return Record{}, err
	}
	return c.record(ctx, call{op: "Update", method: http.MethodPost, path: c.prefix + "/Kyc/update", body: body,
		kycID: p.KYCID, known: []string{p.BVN}}, p.KYCID, opts)
}

// Approve approves a KYC record on behalf of the reviewer approverID (by),
// POST /api/v{version}/Kyc/approve, and returns the approved record. Both
// ids are UUIDs. It is never repeated once it may have reached Katsu: such
// a failure is an *OutcomeUnknownError.
func (c *Client) Approve(ctx context.Context, kycID, approverID string, opts ...CallOption) (Record, error) {
	var v validator
	v.uuid(approverID, "by", true)
	v.uuid(kycID, "kycId", true)
	if err := v.err("Approve"); err != nil {
		return Record{}, err
	}
	body, err := json.Marshal(struct {
		By    string `json:"by"`
		KYCID string `json:"kycId"`
	}{approverID, kycID})
	if err != nil {
		return Record{}, err
	}
	return c.record(ctx, call{op: "Approve", method: http.MethodPost, path: c.prefix + "/Kyc/approve", body: body,
		kycID: kycID}, kycID, opts)
}

// Get reads one KYC record by its id, a UUID: GET
// /api/v{version}/Kyc/{id}/get. A missing record is an *APIError matching
// ErrNotFound; a success reply without a record, or with a record of
// another id, is a *DecodeError.
func (c *Client) Get(ctx context.Context, id string, opts ...CallOption) (Record, error) {
	var v validator
	v.uuid(id, "id", true)
	if err := v.err("Get"); err != nil {
		return Record{}, err
	}
	return c.record(ctx, call{op: "Get", method: http.MethodGet, path: c.prefix + "/Kyc/" + url.PathEscape(id) + "/get"}, id, opts)
}

// record makes a call whose data is the KYC record with id want: a reply
// whose record has no id or another one is a *DecodeError (ids compared
// without regard to case).
func (c *Client) record(ctx context.Context, r call, want string, opts []CallOption) (Record, error) {
	var rec Record
	err := c.do(ctx, r, func(env envelope) error {
		if d := bytes.TrimSpace(env.data); len(d) == 0 || d[0] != '{' {
			return errors.New("data is not a KYC record")
		}
		if err := json.Unmarshal(env.data, &rec); err != nil {
			return err
		}
		switch {
		case rec.ID == "":
			return errors.New("the record in data has no id")
		case !strings.EqualFold(rec.ID, want):
			return errors.New("the record in data is not the one asked about: its id differs")
		}
		return nil
	}, opts)
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// ListParams are the filters, order and page of List; zero fields are not
// sent, leaving Katsu's defaults.
type ListParams struct {
	// OwnerID keeps the records of one owner, a UUID (OwnerId).
	OwnerID string
	// TenantID keeps the records of one tenant, a UUID (TenantId).
	TenantID string
	// OrderBy picks the sort order, 1 to 4 (Orderby); Katsu does not
	// document what each value sorts by. Zero leaves Katsu's default.
	OrderBy int
	// Tier keeps the records of one tier, 0 to 2; nil keeps every tier.
	// With Go 1.26: Tier: new(katsu.Tier1).
	Tier *Tier
	// Descending reverses the order; false is not sent.
	Descending bool
	// PageNumber is the page to read, from 1; zero leaves Katsu's default
	// (the first page).
	PageNumber int
	// PageSize is how many records a page holds, at least 1; zero leaves
	// Katsu's default.
	PageSize int
}

// query returns p as List's query string, its parameters in the
// documented order, or a *ValidationError.
func (p ListParams) query() (string, error) {
	var v validator
	v.uuid(p.OwnerID, "OwnerId", false)
	v.uuid(p.TenantID, "TenantId", false)
	v.add(p.OrderBy != 0 && (p.OrderBy < 1 || p.OrderBy > 4), "Orderby", "must be 1, 2, 3 or 4 (or 0 for the default)")
	v.add(p.Tier != nil && !p.Tier.Valid(), "Tier", "must be 0, 1 or 2")
	v.add(p.PageNumber < 0, "PageNumber", "must be positive (or 0 for the default)")
	v.add(p.PageSize < 0, "PageSize", "must be positive (or 0 for the default)")
	if err := v.err("List"); err != nil {
		return "", err
	}
	var b strings.Builder
	add := func(name, value string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name + "=" + url.QueryEscape(value))
	}
	if p.OwnerID != "" {
		add("OwnerId", p.OwnerID)
	}
	if p.TenantID != "" {
		add("TenantId", p.TenantID)
	}
	if p.OrderBy != 0 {
		add("Orderby", strconv.Itoa(p.OrderBy))
	}
	if p.Tier != nil {
		add("Tier", strconv.Itoa(int(*p.Tier)))
	}
	if p.Descending {
		add("Descending", "true")
	}
	if p.PageNumber != 0 {
		add("PageNumber", strconv.Itoa(p.PageNumber))
	}
	if p.PageSize != 0 {
		add("PageSize", strconv.Itoa(p.PageSize))
	}
	return b.String(), nil
}

// List reads one page of KYC records, GET /api/v{version}/Kyc/get-all,
// filtered and ordered by p. When the reply does not give the page's
// number, the Page carries the one asked for (1 by default).
func (c *Client) List(ctx context.Context, p ListParams, opts ...CallOption) (Page, error) {
	page, _, err := c.list(ctx, p, opts)
	return page, err
}

// pageReply is what All needs of a List reply besides the page.
type pageReply struct {
	// numbered: the reply gave the page's number.
	numbered bool
	// sum is the SHA-256 of the page's records as the reply wrote them.
	sum [sha256.Size]byte
}

// list is List, with what All needs to see that a server does not page.
func (c *Client) list(ctx context.Context, p ListParams, opts []CallOption) (Page, pageReply, error) {
	q, err := p.query()
	if err != nil {
		return Page{}, pageReply{}, err
	}
	var page Page
	var pr pageReply
	err = c.do(ctx, call{op: "List", method: http.MethodGet, path: c.prefix + "/Kyc/get-all", query: q}, func(env envelope) error {
		var items json.RawMessage
		var derr error
		page, items, derr = decodePageItems(env.data, env.fields, p.PageSize)
		pr.sum = sha256.Sum256(items)
		return derr
	}, opts)
	pr.numbered = page.PageNumber != 0
	if err == nil && page.PageNumber == 0 {
		page.PageNumber = max(p.PageNumber, 1)
	}
	return page, pr, err
}

// All returns every record List finds for p, page after page from
// p.PageNumber (or the first), for use in a range loop. It stops after a
// page that has no next one or no records. It yields a zero Record with an
// error and stops when a page fails, when ctx ends (checked before every
// record), or with a *PagingError when the server does not page as asked:
// a reply numbered other than the page asked for, or a page whose records
// repeat, byte for byte, those of an earlier page (a server that ignores
// PageNumber would otherwise be read forever). Breaking out of the loop
// stops it too. Each page is one List call, with opts.
func (c *Client) All(ctx context.Context, p ListParams, opts ...CallOption) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		p.PageNumber = max(p.PageNumber, 1)
		seen := map[[sha256.Size]byte]int{} // page records' sum: page number
		for {
			if err := ctx.Err(); err != nil {
				yield(Record{}, err)
				return
			}
			page, pr, err := c.list(ctx, p, opts)
			if err != nil {
				yield(Record{}, err)
				return
			}
			if pr.numbered && page.PageNumber != p.PageNumber {
				yield(Record{}, &PagingError{PageNumber: p.PageNumber, ReplyPage: page.PageNumber})
				return
			}
			if len(page.Records) > 0 {
				if earlier, ok := seen[pr.sum]; ok {
					yield(Record{}, &PagingError{PageNumber: p.PageNumber, SameAs: earlier})
					return
				}
				seen[pr.sum] = p.PageNumber
			}
			for _, r := range page.Records {
				if err := ctx.Err(); err != nil {
					yield(Record{}, err)
					return
				}
				if !yield(r, nil) {
					return
				}
			}
			if !page.HasNext || len(page.Records) == 0 {
				return
			}
			p.PageNumber++
		}
	}
}
