package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/flipkyc/flipkyc"
)

// pingAgentID is an agent id that no company has: the agents API answers
// it with 404 when the key is good.
const pingAgentID = 999_999_999

var pingCommand = flipCommand(&command{
	path:    "ping",
	summary: "check the secret key and that both of Flip's hosts answer",
	help: `Checks the secret key and the reach of both hosts, without changing anything:
it lists the countries on the KYC service and reads an agent that does not
exist on the agents API (Flip's 404 means reachable, key accepted). Each is
tried once. When something is wrong it says what in one line, and exits 1.`,
	examples: []string{"flipkyc ping", "flipkyc ping --production"},
}, func(fs *flag.FlagSet, e *env) func(*flipkyc.Client, []string) error {
	return func(c *flipkyc.Client, args []string) error {
		if err := needArgs(args); err != nil {
			return err
		}
		agentsURL, kycURL := e.baseURLs()
		once := flipkyc.Retry(flipkyc.RetryPolicy{MaxAttempts: 1})
		res := pingResult{Environment: e.environment().String()}

		var ar flipkyc.Response
		_, err := c.GetAgent(e.ctx, pingAgentID, once, flipkyc.ResponseInto(&ar))
		res.Agents = e.judge("agents API", agentsURL, ar, err, true)
		var kr flipkyc.Response
		countries, err := c.ListCountries(e.ctx, once, flipkyc.ResponseInto(&kr))
		res.KYC = e.judge("KYC service", kycURL, kr, err, false)
		if err == nil {
			res.KYC.Detail = fmt.Sprintf("countries listed: %d", len(countries))
		}
		res.OK = res.Agents.OK && res.KYC.OK

		if e.json {
			writeJSON(e.stdout, res)
		}
		if !res.OK {
			var problems []string
			for _, h := range []pingHost{res.Agents, res.KYC} {
				if !h.OK {
					p := fmt.Sprintf("%s %s: %s", h.Name, h.URL, h.Problem)
					if h.RequestID != "" {
						p += " [Request-ID " + h.RequestID + "]"
					}
					problems = append(problems, p)
				}
			}
			return pingError(strings.Join(problems, "; "))
		}
		if !e.json {
			fmt.Fprintf(e.stdout, "ok: %s key accepted by the agents API (%s) and the KYC service (%s, %s)\n",
				res.Environment, agentsURL, kycURL, res.KYC.Detail)
		}
		return nil
	}
})

// pingError is ping's one-line diagnosis; it carries its own Request-IDs.
type pingError string

func (p pingError) Error() string { return string(p) }

type pingResult struct {
	Environment string   `json:"environment"`
	OK          bool     `json:"ok"`
	Agents      pingHost `json:"agents_api"`
	KYC         pingHost `json:"kyc_service"`
}

type pingHost struct {
	Name       string `json:"-"`
	URL        string `json:"url"`
	OK         bool   `json:"ok"`
	HTTPStatus int    `json:"http_status,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Detail     string `json:"detail,omitempty"`
	Problem    string `json:"problem,omitempty"`
}

// judge says what one host's answer means. For the agents API, Flip's own
// 404 for the missing agent is the expected answer.
func (e *env) judge(name, url string, resp flipkyc.Response, err error, missingOK bool) pingHost {
	h := pingHost{Name: name, URL: url, HTTPStatus: resp.StatusCode, RequestID: resp.RequestID, OK: err == nil}
	if err == nil {
		return h
	}
	var apiErr *flipkyc.APIError
	var netErr *flipkyc.NetworkError
	var decErr *flipkyc.DecodeError
	isAPI := errors.As(err, &apiErr)
	flips := isAPI && apiErr.Body == "" // one of Flip's JSON error shapes
	switch {
	case missingOK && errors.Is(err, flipkyc.ErrNotFound) && flips:
		h.OK, h.Detail = true, "HTTP 404 for a missing agent, as expected"
	case errors.Is(err, flipkyc.ErrUnauthorized) && flips:
		h.Problem = "HTTP 401: the secret key was refused (is " + flipkyc.EnvSecretKey + " the " + e.environment().String() + " key?)"
		if e.production {
			h.Problem += ", or this machine's IP is not whitelisted for production"
		} else if name == "KYC service" {
			h.Problem += " (the KYC service also answers 401 to a missing Request-ID)"
		}
	case errors.Is(err, flipkyc.ErrForbidden) && flips:
		h.Problem = "HTTP 403: access forbidden for this key"
	case errors.As(err, &netErr):
		h.Problem = "unreachable: " + cause(netErr)
	case isAPI && !flips:
		h.Problem = fmt.Sprintf("HTTP %d with a reply that is not Flip's: is the base URL right?", apiErr.StatusCode)
	case errors.As(err, &decErr):
		h.Problem = fmt.Sprintf("HTTP %d with a reply that is not Flip's: is the base URL right?", decErr.StatusCode)
	case isAPI:
		h.Problem = strings.TrimSuffix(fmt.Sprintf("unexpected HTTP %d: %s", apiErr.StatusCode, apiErr.Message), ": ")
	default:
		h.Problem = strings.TrimPrefix(err.Error(), "flipkyc: ")
		if i := strings.LastIndex(h.Problem, " [Request-ID"); i >= 0 {
			h.Problem = h.Problem[:i]
		}
	}
	if h.OK {
		h.Problem = ""
	}
	return h
}

// cause is a network error's cause without the SDK's prefix.
func cause(e *flipkyc.NetworkError) string {
	msg := e.Error()
	if i := strings.LastIndex(msg, " [Request-ID"); i >= 0 {
		msg = msg[:i]
	}
	if _, rest, ok := strings.Cut(msg, e.Path+": "); ok {
		return rest
	}
	return msg
}
