package flipkyctest_test

import (
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepairDataEncodings sends PUT /users/{id}/repair in each body encoding
// Flip documents for it (multipart/form-data in the legacy docs,
// application/x-www-form-urlencoded on the Update User Agent Identity page)
// and checks the fake applies the repair; other encodings are refused.
func TestRepairDataEncodings(t *testing.T) {
	fields := map[string]string{"user_type": "1", "name": "Siti Rahayu Putri", "gender": "2", "birth_date": "15-03-1992"}
	form := func() (string, io.Reader) {
		v := url.Values{}
		for k, val := range fields {
			v.Set(k, val)
		}
		return "application/x-www-form-urlencoded", strings.NewReader(v.Encode())
	}
	tests := []struct {
		name     string
		body     func(t *testing.T) (string, io.Reader)
		status   int
		repaired bool
	}{
		{"multipart", func(t *testing.T) (string, io.Reader) { return multipartBody(t, fields, nil) }, 200, true},
		{"form-urlencoded", func(*testing.T) (string, io.Reader) { return form() }, 200, true},
		{"form-urlencoded with charset", func(*testing.T) (string, io.Reader) {
			ct, body := form()
			return ct + "; charset=UTF-8", body
		}, 200, true},
		{"json refused", func(*testing.T) (string, io.Reader) {
			return "application/json", strings.NewReader(`{"user_type":1,"name":"Siti Rahayu Putri"}`)
		}, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, rec := startReceiver(t)
			id := rejectedAgent(t, c, rec, 10)
			ct, body := tt.body(t)
			status, reply := raw(t, srv, "PUT", flipkyctest.KYCPrefix+"/users/"+itoa(id)+"/repair",
				map[string]string{"Content-Type": ct, "Request-ID": "bigflip-47EB7F57-5565-4BF0-B9DD-46C6268CEE71"}, body)
			require.Equal(t, tt.status, status, reply)
			a, ok := srv.Agent(id)
			require.True(t, ok)
			if !tt.repaired {
				assert.Contains(t, reply, `"code":4001`)
				assert.Equal(t, "Siti Rahayu", a.Name)
				assert.Equal(t, flipkyc.StatusRejected, a.KYCStatus)
				return
			}
			assert.Contains(t, reply, `"name":"Siti Rahayu Putri"`)
			assert.Equal(t, "Siti Rahayu Putri", a.Name)
			assert.Equal(t, flipkyc.NewDate(1992, 3, 15), a.BirthDate)
			assert.Equal(t, flipkyc.StatusApproved, rec.next(t).KYCStatus, "the repair went under review")
			got := srv.RequestsTo(flipkyctest.RouteRepairData)
			require.Len(t, got, 1)
			assert.Equal(t, fields, got[0].Fields)
		})
	}
}
