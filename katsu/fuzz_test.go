package katsu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const (
	fuzzToken = "tok-Fz9Qw2Lm8Xr4"
	fuzzBVN   = "22212345678"
)

// FuzzDecodeReply feeds arbitrary replies to the reply decoder of every
// call: it must never panic, and whatever it returns must carry neither the
// token nor the BVN the call sent.
func FuzzDecodeReply(f *testing.F) {
	seeds := []string{
		`{"succeeded":true,"message":"ok","errors":[],"data":{"id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","tier":"1","name":"Ada Obi","tenantId":"x","ownerId":"y","approved":true,"isTenant":true,"isAddressVerified":true,"approvedOn":"2024-08-06T22:14:12.185Z","bvn":"22212345678","status":"Approved"}}`,
		`{"succeeded":false,"message":"Bearer tok-Fz9Qw2Lm8Xr4","errors":["22212345678"],"data":null}`,
		`{"succeeded":true,"data":[{"id":"a","tier":2}],"pageNumber":1,"pageSize":1,"totalPages":2,"totalRecords":2}`,
		`{"succeeded":true,"data":{"items":[{"tier":"Tier1"}],"hasNextPage":true,"nextPage":"u"}}`,
		`{"title":"One or more validation errors occurred.","errors":{"Bvn":["bad 22212345678"]}}`,
		`{"succeeded":"false","errors":"dG9rLUZ6OVF3MkxtOFhyNA=="}`,
		`{"Succeeded":true,"Data":{"Tier":-1,"ApprovedOn":"0001-01-01T00:00:00"}}`,
		"\xef\xbb\xbf{\"succeeded\":true,\"data\":[]}",
		`tok-Fz9Qw2Lm8Xr4`, `<html>`, ``, `null`, `[]`, `{"data":{"tier":1e400}}`,
		`{"succeeded":false,"message":"\u0074ok-Fz9Qw2Lm8Xr4 2221234567\u0038"}`,
	}
	for _, s := range seeds {
		for _, status := range []int{200, 400, 500} {
			f.Add(status, []byte(s))
		}
	}
	c, err := New(fuzzToken, WithBaseURL("https://katsu.example"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 200 + (status%400+400)%400 // 200 to 599
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {string(body[:min(len(body), 8)])}}}
		calls := []struct {
			r      call
			decode func(envelope) error
		}{
			{call{op: "Update", method: "POST", path: "/api/v1/Kyc/update", known: []string{fuzzBVN}}, func(env envelope) error {
				var rec Record
				return json.Unmarshal(env.data, &rec)
			}},
			{call{op: "List", method: "GET", path: "/api/v1/Kyc/get-all"}, func(env envelope) error {
				p, err := decodePage(env.data, env.fields, 10)
				if err == nil && len(p.Records) == 0 && p.HasNext {
					return errors.New("an empty page has a next page")
				}
				_ = fmt.Sprint(p)
				return err
			}},
		}
		for _, tc := range calls {
			res := c.judge(context.Background(), &tc.r, resp, body, nil, false, tc.decode)
			if res.err == nil {
				continue
			}
			if strings.Contains(res.err.Error(), "an empty page has a next page") {
				t.Fatal("an empty page has a next page")
			}
			texts := []string{res.err.Error(), fmt.Sprintf("%#v", res.err), res.message}
			var apiErr *APIError
			if errors.As(res.err, &apiErr) {
				texts = append(texts, apiErr.Body, strings.Join(apiErr.Errors, "|"))
			}
			var decErr *DecodeError
			if errors.As(res.err, &decErr) {
				texts = append(texts, decErr.Body)
			}
			for _, text := range texts {
				if strings.Contains(text, fuzzToken) || strings.Contains(text, fuzzBVN) {
					t.Fatalf("%s leaks: %q", tc.r.op, text)
				}
			}
		}
	})
}

// FuzzTier checks that any JSON tier reads without panic, and that a tier
// read as valid writes back as the same number.
func FuzzTier(f *testing.F) {
	for _, s := range []string{`1`, `"1"`, `"Tier2"`, `"level 0"`, `"x"`, `null`, `1.5`, `-0`, `"٣"`, `1e9`, `"00001"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tier Tier
		if json.Unmarshal(b, &tier) != nil || !tier.Valid() {
			return
		}
		out, err := json.Marshal(tier)
		if err != nil {
			t.Fatal(err)
		}
		var again Tier
		if err := json.Unmarshal(out, &again); err != nil || again != tier {
			t.Fatalf("%s read as %d wrote %s read back as %d (%v)", b, tier, out, again, err)
		}
	})
}
