package flipkyctest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/flipkyc/flipkyc"
)

// NewCallbackRequest builds the request Flip sends to target for ev, with
// token: a POST, Content-Type application/x-www-form-urlencoded, with the
// form fields data (ev as a JSON object with Flip's field names; Raw and
// Problems are not sent) and token. Use it to test a callback receiver, with
// its ServeHTTP or an *http.Client; the fake sends its own callbacks so.
func NewCallbackRequest(ctx context.Context, target string, ev flipkyc.Event, token string) (*http.Request, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	body := url.Values{"data": {string(data)}, "token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
