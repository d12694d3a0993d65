package flipkyctest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPrintingHidesSecretsAndPersonalData prints the server, its request log
// and its callbacks under every verb, as values and pointers, marshals the
// server to JSON and logs the entries with log/slog, and checks that neither
// the secret key, the callback token, the Authorization header nor the
// agent's personal data shows, while the log itself keeps the data.
func TestPrintingHidesSecretsAndPersonalData(t *testing.T) {
	const key, token = "sk-DISTINCT-KEY-7731", "cbtok-DISTINCT-4412"
	got := make(chan struct{}, 4)
	rcv, err := flipkyc.NewCallbackHandler(token, func(context.Context, flipkyc.Event) error {
		got <- struct{}{}
		return nil
	})
	require.NoError(t, err)
	cb := httptest.NewServer(rcv)
	defer cb.Close()
	srv := flipkyctest.NewServer(t, flipkyctest.WithSecretKey(key), flipkyctest.WithCallbacks(cb.URL, token))
	c, err := srv.NewClient()
	require.NoError(t, err)
	ctx := context.Background()

	p := agentParams("3201000000000501", "081200000501")
	p.Email, p.ResidenceAddress = "siti.rahayu@example.com", "Jalan Kenanga Nomor 5"
	a, err := c.CreateAgent(ctx, p)
	require.NoError(t, err)
	_, err = c.UploadIdentityImage(ctx, a.ID, flipkyc.IdentityKTP, img(t))
	require.NoError(t, err)
	_, err = c.UploadSelfieWithIdentity(ctx, a.ID, flipkyc.IdentityKTP, img(t))
	require.NoError(t, err)
	<-got
	// An identity number sent where the agent id goes, and a form whose
	// only field name is personal data.
	_, _ = c.GetAgent(ctx, 3201000000000501)
	status, _ := raw(t, srv, "POST", flipkyctest.AgentsPrefix+"/agents",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("Siti+Rahayu"))
	require.Equal(t, http.StatusUnprocessableEntity, status)
	srv.Close()

	reqs, sent := srv.Requests(), srv.Callbacks()
	require.Len(t, sent, 1)
	create := srv.RequestsTo(flipkyctest.RouteCreateAgent)[0]
	require.Equal(t, "Siti Rahayu", create.Fields["name"], "the log keeps the data")
	require.Equal(t, "Siti Rahayu", sent[0].Event.AgentName, "the callback record keeps the name")

	secrets := []string{key, token, base64.StdEncoding.EncodeToString([]byte(key + ":"))}
	personal := []string{"Siti", "Rahayu", "3201000000000501", "081200000501", "6281200000501",
		"siti.rahayu@example.com", "14-03-1992", "Margonda", "Kenanga"}

	values := []struct {
		name string
		v    any
		want string // a part of the printed form, to show the printing is not empty
	}{
		{"server", *srv, srv.URL},
		{"*server", srv, srv.URL},
		{"create request", create, "name:[masked]"},
		{"*create request", &create, "phone_number:[masked]"},
		{"requests", reqs, "user_type:1"},
		{"callback", sent[0], fmt.Sprintf("AgentID: %d", a.ID)},
		{"*callback", &sent[0], "AgentName: [masked]"},
		{"callbacks", sent, "KYCStatus: " + string(flipkyc.StatusUploadIdentitySelfieSuccess)},
		{"in a struct", struct {
			S *flipkyctest.Server
			R flipkyctest.Request
		}{srv, create}, "identity_number:[masked]"},
	}
	for _, tt := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, tt.v)
			for _, s := range append(secrets, personal...) {
				assert.NotContains(t, out, s, "%s printed with %s", tt.name, verb)
			}
			if verb != "%x" && verb != "%q" {
				assert.Contains(t, out, tt.want, "%s printed with %s", tt.name, verb)
			}
		}
	}
	var printed bytes.Buffer
	for _, r := range reqs {
		fmt.Fprintln(&printed, r)
	}
	assert.Contains(t, printed.String(), "Path: /big_sandbox_api/v2/agents/[masked]", "the identity number sent as an id")
	assert.Contains(t, printed.String(), "Fields: map[[masked]:[masked]]", "the unknown field name")

	for _, v := range []any{srv, *srv} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		for _, s := range secrets {
			assert.NotContains(t, string(b), s)
		}
		assert.Contains(t, string(b), srv.URL)
	}
	for _, v := range []any{create, &create, reqs, sent[0], &sent[0], sent} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		for _, s := range append(secrets, personal...) {
			assert.NotContains(t, string(b), s)
		}
	}
	b, err := json.Marshal(create)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"name":"[masked]"`)
	assert.Contains(t, string(b), `"city_id":"184"`)
	b, err = json.Marshal(sent[0])
	require.NoError(t, err)
	assert.Contains(t, string(b), fmt.Sprintf(`"agent_id":%d,"agent_name":"[masked]"`, a.ID))

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(h).Info("fake", "server", srv, "request", create, "callback", sent[0], "requests", reqs)
	}
	for _, s := range append(secrets, personal...) {
		assert.NotContains(t, logs.String(), s)
	}
	assert.Contains(t, logs.String(), "name:[masked]")
	assert.Equal(t, token, srv.CallbackToken())
}
