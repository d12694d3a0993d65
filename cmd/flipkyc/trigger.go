package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// callbackTimeout bounds one callback sent or forwarded; Flip documents 30
// seconds for its own callbacks.
const callbackTimeout = 30 * time.Second

// checkURL checks a URL given on the command line.
func checkURL(flagName, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("%s: want an http:// or https:// URL", flagName)
	}
	return u, nil
}

// noRedirectClient posts callbacks: a redirect is answered as it is, so the
// token never goes anywhere but the URL given.
func noRedirectClient() *http.Client {
	return &http.Client{
		Timeout:       callbackTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post sends req and returns the status, the body read and dropped so the
// connection can be reused.
func post(client *http.Client, req *http.Request) (int, error) {
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// parseStatus reads a KYC status by name (any case) or by Flip's code.
func parseStatus(s string) (flipkyc.KYCStatus, bool) {
	st := flipkyc.KYCStatus(strings.ToUpper(strings.TrimSpace(s)))
	if n, err := strconv.Atoi(string(st)); err == nil {
		st = flipkyc.KYCStatusFromCode(n)
	}
	return st, st.Known()
}

var allStatuses = []flipkyc.KYCStatus{
	flipkyc.StatusUploadIdentitySelfieSuccess, flipkyc.StatusUploadIdentitySelfieFailed, flipkyc.StatusApproved, flipkyc.StatusRejected,
	flipkyc.StatusBasicData, flipkyc.StatusUploadIdentityFailed, flipkyc.StatusUploadIdentitySuccess, flipkyc.StatusUploadIdentitySelfieProgress,
	flipkyc.StatusPending, flipkyc.StatusSuspicious, flipkyc.StatusNeedToCheck, flipkyc.StatusHelp,
}

func statusNames() string {
	names := make([]string, len(allStatuses))
	for i, s := range allStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

var triggerCommand = &command{
	path: "trigger", args: "STATUS",
	summary: "send a KYC callback to a receiver, in Flip's exact wire form",
	help: `Sends the callback Flip sends when an agent reaches STATUS: a POST,
application/x-www-form-urlencoded, with the fields data (the event as JSON:
agent_id, agent_name, kyc_status, rejected_reason_code, rejected_reason,
created_at, updated_at, submitted_at, verified_at; times now, in Flip's
zone-less form) and token. Flip's callbacks carry UPLOAD_IDENTITY_SELFIE_SUCCESS,
UPLOAD_IDENTITY_SELFIE_FAILED, APPROVED and REJECTED; any status is accepted
(by name, or by Flip's code such as 40), and any rejection code: a documented
one (10-33) sends Flip's text as rejected_reason. Redirects are not followed.
Prints the receiver's HTTP status; exits 1 unless it is 2xx.

The token comes from ` + envCallbackToken + ` or --token-file FILE. --token still
works but is discouraged: every local user can read a flag in the process
list.

Statuses: ` + statusNames() + ".",
	examples: []string{
		"export " + envCallbackToken + "=dev-token",
		"flipkyc trigger APPROVED --agent 1001 --url http://127.0.0.1:8080/flip/kyc",
		"flipkyc trigger REJECTED --agent 1001 --reason 17 --url http://127.0.0.1:8080/flip/kyc",
	},
	setup: func(fs *flag.FlagSet, e *env) func([]string) error {
		agent := fs.Int64("agent", 0, "agent_id (required)")
		reason := fs.Int("reason", 0, "rejected_reason_code, such as 17")
		reasonText := fs.String("reason-text", "", "rejected_reason (default: Flip's text for --reason)")
		name := fs.String("name", "", "agent_name (default: empty)")
		target := fs.String("url", "", "the receiver's URL (required)")
		token := defineToken(fs, "token")
		return func(args []string) error {
			if err := needArgs(args, "STATUS"); err != nil {
				return err
			}
			status, ok := parseStatus(args[0])
			if !ok {
				return usagef("unknown KYC status; want one of %s", statusNames())
			}
			switch {
			case *agent <= 0:
				return usagef("--agent: want the agent's id, a positive whole number")
			case *reason < 0:
				return usagef("--reason: want a rejection code such as 17")
			case *target == "":
				return usagef("--url: missing the receiver's URL")
			}
			u, err := checkURL("--url", *target)
			if err != nil {
				return err
			}
			tok, err := e.requireToken(token)
			if err != nil {
				return err
			}
			ev := newEvent(*agent, *name, status, flipkyc.RejectionCode(*reason), *reasonText, time.Now())
			ctx, cancel := context.WithTimeout(e.ctx, callbackTimeout)
			defer cancel()
			req, err := flipkyctest.NewCallbackRequest(ctx, u.String(), ev, tok)
			if err != nil {
				return err
			}
			code, err := post(noRedirectClient(), req)
			if err != nil {
				return fmt.Errorf("sending the callback to %s: %v", u.Redacted(), err)
			}
			if e.json {
				shown := ev.Masked()
				writeJSON(e.stdout, struct {
					URL    string        `json:"url"`
					Status int           `json:"http_status"`
					Event  flipkyc.Event `json:"event"`
				}{u.Redacted(), code, shown})
			} else {
				fmt.Fprintf(e.stdout, "%s for agent %d → %s: HTTP %d %s\n", status, *agent, u.Redacted(), code, http.StatusText(code))
			}
			if code < 200 || code > 299 {
				return fmt.Errorf("the receiver answered HTTP %d %s", code, http.StatusText(code))
			}
			return nil
		}
	},
}

// newEvent builds the callback for status, with Flip's times for it: all
// now; submitted_at from the review on, verified_at once approved.
func newEvent(agentID int64, name string, status flipkyc.KYCStatus, code flipkyc.RejectionCode, reason string, now time.Time) flipkyc.Event {
	ts := flipkyc.Timestamp{Time: now.Truncate(time.Second)}
	ev := flipkyc.Event{
		AgentID: agentID, AgentName: name, KYCStatus: status,
		RejectedReasonCode: code, RejectedReason: firstNonEmpty(reason, code.Message()),
		CreatedAt: ts, UpdatedAt: ts,
	}
	switch status {
	case flipkyc.StatusPending, flipkyc.StatusSuspicious, flipkyc.StatusNeedToCheck, flipkyc.StatusHelp,
		flipkyc.StatusApproved, flipkyc.StatusRejected:
		ev.SubmittedAt = ts
	}
	if status == flipkyc.StatusApproved {
		ev.VerifiedAt = ts
	}
	return ev
}
