package katsu_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc/katsu"
)

// countingClient returns a client whose server answers every request with
// a record, and the number of requests it received.
func countingClient(t *testing.T) (*katsu.Client, *atomic.Int32) {
	var n atomic.Int32
	c, _ := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		body := okRecord
		if strings.HasSuffix(r.URL.Path, "get-all") {
			body = `{"succeeded":true,"data":[]}`
		}
		reply(200, body)(w, r)
	}))
	return c, &n
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	valid := katsu.UpdateParams{KYCID: kycID, Tier: katsu.Tier1, BVN: testBVN}
	update := func(mod func(*katsu.UpdateParams)) func(*katsu.Client) error {
		return func(c *katsu.Client) error {
			p := valid
			mod(&p)
			_, err := c.Update(ctx, p)
			return err
		}
	}
	list := func(p katsu.ListParams) func(*katsu.Client) error {
		return func(c *katsu.Client) error { _, err := c.List(ctx, p); return err }
	}
	tests := []struct {
		name  string
		call  func(*katsu.Client) error
		field string // "" when the input is valid
	}{
		{"update valid", update(func(*katsu.UpdateParams) {}), ""},
		{"bvn 11 digits", update(func(p *katsu.UpdateParams) { p.BVN = "00000000000" }), ""},
		{"bvn 10 digits", update(func(p *katsu.UpdateParams) { p.BVN = "2229876543" }), "bvn"},
		{"bvn 12 digits", update(func(p *katsu.UpdateParams) { p.BVN = "222987654310" }), "bvn"},
		{"bvn letter", update(func(p *katsu.UpdateParams) { p.BVN = "2229876543O" }), "bvn"},
		{"bvn arabic-indic digits", update(func(p *katsu.UpdateParams) { p.BVN = "٢٢٢٩٨٧٦٥٤٣١" }), "bvn"},
		{"bvn empty", update(func(p *katsu.UpdateParams) { p.BVN = "" }), "bvn"},
		{"tier 0", update(func(p *katsu.UpdateParams) { p.Tier = katsu.Tier0 }), ""},
		{"tier 2", update(func(p *katsu.UpdateParams) { p.Tier = katsu.Tier2 }), ""},
		{"tier 3", update(func(p *katsu.UpdateParams) { p.Tier = 3 }), "tier"},
		{"tier -1", update(func(p *katsu.UpdateParams) { p.Tier = katsu.TierUnknown }), "tier"},
		{"kycId upper case", update(func(p *katsu.UpdateParams) { p.KYCID = strings.ToUpper(kycID) }), ""},
		{"kycId braces", update(func(p *katsu.UpdateParams) { p.KYCID = "{" + kycID + "}" }), "kycId"},
		{"kycId no dashes", update(func(p *katsu.UpdateParams) { p.KYCID = strings.ReplaceAll(kycID, "-", "") }), "kycId"},
		{"kycId nil uuid", update(func(p *katsu.UpdateParams) { p.KYCID = "00000000-0000-0000-0000-000000000000" }), "kycId"},
		{"kycId empty", update(func(p *katsu.UpdateParams) { p.KYCID = "" }), "kycId"},
		{"approve valid", func(c *katsu.Client) error { _, err := c.Approve(ctx, kycID, approver); return err }, ""},
		{"approve bad by", func(c *katsu.Client) error { _, err := c.Approve(ctx, kycID, "reviewer-1"); return err }, "by"},
		{"approve bad kycId", func(c *katsu.Client) error { _, err := c.Approve(ctx, "x", approver); return err }, "kycId"},
		{"get valid", func(c *katsu.Client) error { _, err := c.Get(ctx, kycID); return err }, ""},
		{"get bad id", func(c *katsu.Client) error { _, err := c.Get(ctx, "../approve"); return err }, "id"},
		{"get empty id", func(c *katsu.Client) error { _, err := c.Get(ctx, ""); return err }, "id"},
		{"list orderby 1", list(katsu.ListParams{OrderBy: 1}), ""},
		{"list orderby 4", list(katsu.ListParams{OrderBy: 4}), ""},
		{"list orderby 5", list(katsu.ListParams{OrderBy: 5}), "Orderby"},
		{"list orderby -1", list(katsu.ListParams{OrderBy: -1}), "Orderby"},
		{"list tier 2", list(katsu.ListParams{Tier: new(katsu.Tier2)}), ""},
		{"list tier 3", list(katsu.ListParams{Tier: new(katsu.Tier(3))}), "Tier"},
		{"list page 1", list(katsu.ListParams{PageNumber: 1, PageSize: 1}), ""},
		{"list page -1", list(katsu.ListParams{PageNumber: -1}), "PageNumber"},
		{"list size -1", list(katsu.ListParams{PageSize: -1}), "PageSize"},
		{"list owner", list(katsu.ListParams{OwnerID: ownerID, TenantID: tenantID}), ""},
		{"list bad owner", list(katsu.ListParams{OwnerID: "me"}), "OwnerId"},
		{"list bad tenant", list(katsu.ListParams{TenantID: "t1"}), "TenantId"},
		{"language fr", func(c *katsu.Client) error { _, err := c.Get(ctx, kycID, katsu.Lang(katsu.French)); return err }, ""},
		{"language de", func(c *katsu.Client) error { _, err := c.Get(ctx, kycID, katsu.Lang("de")); return err }, "Accept-Language"},
		{"language empty", func(c *katsu.Client) error { _, err := c.Get(ctx, kycID, katsu.Lang("")); return err }, "Accept-Language"},
		{"negative retry", func(c *katsu.Client) error {
			_, err := c.Get(ctx, kycID, katsu.Retry(katsu.RetryPolicy{MaxAttempts: -1}))
			return err
		}, "Retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := countingClient(t)
			err := tt.call(c)
			if tt.field == "" {
				require.NoError(t, err)
				assert.EqualValues(t, 1, n.Load())
				return
			}
			var ve *katsu.ValidationError
			require.True(t, errors.As(err, &ve), "want a *ValidationError, got %v", err)
			assert.True(t, ve.Has(tt.field), "%v does not name %s", ve, tt.field)
			assert.ErrorIs(t, err, katsu.ErrInvalidRequest)
			assert.Zero(t, n.Load(), "nothing may be sent")
			assert.NotContains(t, err.Error(), testBVN[:6])
		})
	}
}

func TestValidationListsEveryField(t *testing.T) {
	c, _ := countingClient(t)
	_, err := c.Update(context.Background(), katsu.UpdateParams{Tier: 9, BVN: "123"})
	var ve *katsu.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []katsu.FieldError{
		{Field: "tier", Rule: "must be 0, 1 or 2"},
		{Field: "bvn", Rule: "must be exactly 11 digits"},
		{Field: "kycId", Rule: "required, a UUID"},
	}, ve.Fields)
	assert.Equal(t, "katsu: Update: invalid input: tier: must be 0, 1 or 2; bvn: must be exactly 11 digits; kycId: required, a UUID", err.Error())
}
