package main

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
)

// liveRefresh is how often a page of a live run reloads itself, in
// seconds.
const liveRefresh = 5

// overviewAttention is how many agents needing attention the overview
// lists; the agent list (attention=1) has them all.
const overviewAttention = 20

// consoleFuncs are the functions the console's templates call.
var consoleFuncs = template.FuncMap{
	"wayOut":  wayOutHelp,
	"fixes":   fixNames,
	"fixHelp": fixHelp,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"agentID": func(id int64) string {
		if id == 0 {
			return "-"
		}
		return strconv.FormatInt(id, 10)
	},
	"has": func(fixes []flipkyc.Fix, f string) bool { return slices.Contains(fixes, flipkyc.Fix(f)) },
}

// wayOutHelp says what takes a parked agent on, in the console.
func wayOutHelp(w string) string {
	switch w {
	case fleet.WayOutResume:
		return "resume it, once what parked it is fixed"
	case fleet.WayOutAgentID:
		return "ask Flip, then give its agent id, or confirm it was not created"
	case fleet.WayOutRepair:
		return "give a new photo, selfie or corrected data"
	}
	return "-"
}

// fixHelp says what a fix means in the console.
func fixHelp(f flipkyc.Fix) string {
	switch f {
	case flipkyc.FixRepairData:
		return "correct the agent's data (the agent's page, Correct data)"
	case flipkyc.FixRepairIdentityImage:
		return "upload a new identity photo (the agent's page)"
	case flipkyc.FixRepairSelfie:
		return "upload a new selfie with the identity card (the agent's page)"
	case flipkyc.FixSupportingDocuments:
		return "add supporting documents (the agent's page)"
	case flipkyc.FixContactFlip:
		return "contact Flip's CX team"
	case flipkyc.FixNone:
		return "nothing can be done (treated as fraud)"
	}
	return string(f)
}

// countLine is one row of a table of counts.
type countLine struct {
	Name   string
	Agents int
	Link   string // the agent list filtered so
}

// overviewPage is the overview's data.
type overviewPage struct {
	Total, Active, Final, Parked int
	Percent                      int
	LastMinute, Last10Minutes    int
	States, Statuses             []countLine
	Rejections                   []fleet.RejectionLine
	// Attention is the first overviewAttention agents needing attention;
	// MoreAttention counts the others.
	Attention     []attentionLine
	MoreAttention int
	// Rejected counts the agents of Rejections, each waiting for what its
	// rejection calls for.
	Rejected int
}

// attentionLine is an agent that needs a person.
type attentionLine struct {
	Line    int
	AgentID int64
	WayOut  string
	Why     string
}

func (c *consoleServer) overview(w http.ResponseWriter, r *http.Request) {
	s, err := c.Fleet.Summary(r.Context())
	if err != nil {
		c.failed(w, r, "reading the run's summary", err)
		return
	}
	p := overviewPage{Total: s.Total, Active: s.Active, Parked: len(s.Attention), Rejections: s.Rejections,
		LastMinute: s.FinishedLastMinute, Last10Minutes: s.FinishedLast10Minutes}
	p.Final = s.Total - s.Active - p.Parked
	if s.Total > 0 {
		p.Percent = (s.Total - s.Active) * 100 / s.Total
	}
	for _, st := range fleet.States {
		if n := s.Counts[st]; n > 0 {
			p.States = append(p.States, countLine{Name: st, Agents: n, Link: "/agents?" + url.Values{"state": {st}}.Encode()})
		}
	}
	for status, n := range s.KYCStatuses {
		name := status
		if name == "" {
			name = "(not created yet)"
		}
		link := ""
		if status != "" {
			link = "/agents?" + url.Values{"kyc": {status}}.Encode()
		}
		p.Statuses = append(p.Statuses, countLine{Name: name, Agents: n, Link: link})
	}
	slices.SortFunc(p.Statuses, func(a, b countLine) int { return cmp.Compare(a.Name, b.Name) })
	for i := range p.Rejections {
		p.Rejected += p.Rejections[i].Agents
		p.Rejections[i].Message = maskText(p.Rejections[i].Message)
	}
	for i, a := range s.Attention {
		if i == overviewAttention {
			p.MoreAttention = len(s.Attention) - i
			break
		}
		p.Attention = append(p.Attention, attentionLine{Line: a.Line, AgentID: a.AgentID, WayOut: a.WayOut, Why: maskText(a.Attention, a.IdentityNumber)})
	}
	c.render(w, r, http.StatusOK, "overview", pageData{Title: "Overview", Refresh: c.refreshFor(s), Work: c.describeWork(r), Page: p})
}

// refreshFor reloads the page of a run with agents under way.
func (c *consoleServer) refreshFor(s fleet.Summary) int {
	if s.Active > 0 {
		return liveRefresh
	}
	return 0
}

func (c *consoleServer) describeWork(r *http.Request) string {
	if c.Work == nil {
		return ""
	}
	return c.Work.Describe(r.Context())
}

// agentsPage is the agent list's data.
type agentsPage struct {
	Filter   agentFilterForm
	States   []string
	Agents   []agentLine
	Next     string // the next page's URL, "" on the last
	First    string // the first page's URL, "" on it
	Problems []string
}

// agentFilterForm is the list's filter as the form shows it.
type agentFilterForm struct {
	State, KYC, Code, Line, Agent string
	Attention                     bool
}

// agentLine is one agent of the list.
type agentLine struct {
	Line      int
	AgentID   int64
	State     string
	KYCStatus string
	Code      string
	WayOut    string
	Why       string
}

// kycStatusShape matches a KYC status as Flip names them: letters, digits
// and underscores.
var kycStatusShape = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// parseAgentFilter reads the list's filter from the query; problems name
// the parameters that could not be read.
func parseAgentFilter(q url.Values) (fleet.AgentFilter, agentFilterForm, []string) {
	form := agentFilterForm{State: q.Get("state"), KYC: q.Get("kyc"), Code: q.Get("code"), Line: q.Get("line"), Agent: q.Get("agent"), Attention: q.Get("attention") != ""}
	f := fleet.AgentFilter{State: form.State, KYCStatus: form.KYC, Attention: form.Attention}
	var problems []string
	if f.State != "" && !slices.Contains(fleet.States, f.State) {
		problems = append(problems, "state: not one of the run's states")
		f.State = ""
	}
	if f.KYCStatus != "" && !kycStatusShape.MatchString(f.KYCStatus) {
		// Any status Flip may send has this shape, one the SDK does not
		// know yet included; other text (invalid UTF-8, NUL) is refused
		// here, not by Postgres.
		problems = append(problems, "kyc: want a KYC status, such as APPROVED or REJECTED")
		f.KYCStatus = ""
	}
	number := func(name, v string, bits int) int64 {
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits)
		if err != nil || n < 0 {
			problems = append(problems, name+": want a whole number")
			return 0
		}
		return n
	}
	f.Code = flipkyc.RejectionCode(number("code", form.Code, 32))
	f.Line = int(number("line", form.Line, 32))
	f.AgentID = number("agent", form.Agent, 64)
	f.AfterLine = int(number("after", q.Get("after"), 32))
	return f, form, problems
}

// encode returns the filter as a query, with after when not zero.
func (f agentFilterForm) encode(after int) string {
	q := url.Values{}
	for k, v := range map[string]string{"state": f.State, "kyc": f.KYC, "code": f.Code, "line": f.Line, "agent": f.Agent} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Attention {
		q.Set("attention", "1")
	}
	if after > 0 {
		q.Set("after", strconv.Itoa(after))
	}
	return "/agents?" + q.Encode()
}

func (c *consoleServer) agentList(w http.ResponseWriter, r *http.Request) {
	filter, form, problems := parseAgentFilter(r.URL.Query())
	page, next, err := c.Fleet.Agents(r.Context(), filter)
	if err != nil {
		c.failed(w, r, "reading the agents", err)
		return
	}
	p := agentsPage{Filter: form, States: fleet.States, Problems: problems}
	for _, a := range page {
		l := agentLine{Line: a.Line, AgentID: a.AgentID, State: a.State, KYCStatus: a.KYCStatus, WayOut: a.WayOut,
			Why: maskText(firstNonEmpty(a.Attention, a.Rejection), a.IdentityNumber)}
		if a.RejectionCode != 0 {
			l.Code = a.RejectionCode.String()
		}
		p.Agents = append(p.Agents, l)
	}
	if next > 0 {
		p.Next = form.encode(next)
	}
	if filter.AfterLine > 0 {
		p.First = form.encode(0)
	}
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusBadRequest
	}
	c.render(w, r, status, "agents", pageData{Title: "Agents", Work: c.describeWork(r), Page: p})
}

// agentPage is an agent's page's data.
type agentPage struct {
	Line      int
	AgentID   int64
	State     string
	KYCStatus string
	Code      string
	Rejection string
	Fix       []flipkyc.Fix
	WayOut    string
	Why       string
	CreateID  string
	Erased    bool
	Timeline  []fleet.Entry
	// Forms are the actions this agent's state calls for.
	Forms agentForms
	// FieldErrors are the rules the last form broke, by field.
	FieldErrors map[string]string
	// Revealed is the agent's personal data, shown once after Reveal.
	Revealed []revealedField
	// DataFields are the fields of the data form; DocumentTypes and
	// DocumentSlots those of the documents form.
	DataFields    []dataField
	DocumentTypes []string
	DocumentSlots []int
}

// agentForms says which action forms an agent's page shows.
type agentForms struct {
	Data, IdentityPhoto, Selfie, Documents, AgentID, NotCreated, Resume bool
}

// formsFor returns the forms that can take an agent on from where it is.
func formsFor(rec fleet.Record) agentForms {
	var f agentForms
	switch {
	case rec.State == fleet.StateRejected:
		f.Data = slices.Contains(rec.Fix, flipkyc.FixRepairData)
		f.IdentityPhoto = slices.Contains(rec.Fix, flipkyc.FixRepairIdentityImage)
		f.Selfie = slices.Contains(rec.Fix, flipkyc.FixRepairSelfie)
		f.Documents = slices.Contains(rec.Fix, flipkyc.FixSupportingDocuments)
	case rec.State == fleet.StateUploadFailed:
		f.Documents = true
	case rec.State == fleet.StateAttention:
		switch rec.WayOut {
		case fleet.WayOutResume:
			f.Resume = true
		case fleet.WayOutAgentID:
			f.AgentID, f.NotCreated = true, rec.AgentID == 0
		case fleet.WayOutRepair:
			f.Data, f.IdentityPhoto, f.Selfie = true, true, true
		}
	}
	return f
}

// revealedField is one personal value shown after Reveal.
type revealedField struct{ Name, Value string }

// dataField is one field of the data form: a column of the repair CSV.
type dataField struct {
	Name, Label, Hint string
}

// dataFields are the data form's fields, the data columns of a repair
// CSV (identity number excepted: it is the run's key for the agent).
var dataFields = []dataField{
	{"name", "Name", "as on the identity card, 1 to 50 characters"},
	{"identity_type", "Identity type", "ktp or passport"},
	{"birth_date", "Birth date", "DD-MM-YYYY"},
	{"birth_place", "Birth place", ""},
	{"gender", "Gender", "male or female"},
	{"occupation", "Occupation", "e.g. entrepreneur, private_employee, housewife, others"},
	{"province_id", "Province id", "from flipkyc locations"},
	{"city_id", "City id", ""},
	{"district_id", "District id", ""},
	{"address", "Address", "10 to 300 characters"},
	{"phone_number", "Phone number", "the number the company verified"},
}

// documentSlots is how many documents one form sends.
const documentSlots = 3

func (c *consoleServer) agentPage(w http.ResponseWriter, r *http.Request) {
	line, ok := c.lineOf(w, r)
	if !ok {
		return
	}
	pd := pageData{Title: fmt.Sprintf("Agent of line %d", line), Done: doneMessages[r.URL.Query().Get("done")]}
	c.showAgent(w, r, line, http.StatusOK, pd, nil, nil)
}

// lineOf reads the agent's line from the path.
func (c *consoleServer) lineOf(w http.ResponseWriter, r *http.Request) (int, bool) {
	// 32 bits, as a run keeps lines (Postgres: integer).
	line, err := strconv.ParseInt(r.PathValue("line"), 10, 32)
	if err != nil || line < 1 {
		c.refuse(w, http.StatusNotFound, "No such agent: an agent is named by its line in the CSV, a whole number from 2.")
		return 0, false
	}
	return int(line), true
}

// showAgent renders an agent's page, with the field errors of a refused
// form or the revealed data of a Reveal.
func (c *consoleServer) showAgent(w http.ResponseWriter, r *http.Request, line, status int, pd pageData, fieldErrors map[string]string, revealed []revealedField) {
	rec, entries, err := c.Fleet.Agent(r.Context(), line)
	if errors.Is(err, fleet.ErrNoSuchAgent) {
		c.refuse(w, http.StatusNotFound, fmt.Sprintf("The run has no agent of line %d.", line))
		return
	}
	if err != nil {
		c.failed(w, r, "reading the agent", err)
		return
	}
	p := agentPage{Line: rec.Line, AgentID: rec.AgentID, State: rec.State, KYCStatus: rec.KYCStatus,
		Rejection: maskText(rec.Rejection, rec.IdentityNumber), Fix: rec.Fix, WayOut: rec.WayOut,
		Why: maskText(rec.Attention, rec.IdentityNumber), CreateID: rec.CreateRequestID, Erased: rec.Erased,
		Forms: formsFor(rec), FieldErrors: fieldErrors, Revealed: revealed,
		DataFields: dataFields, DocumentTypes: documentTypes(), DocumentSlots: []int{1, 2, 3}}
	if rec.RejectionCode != 0 {
		p.Code = rec.RejectionCode.String()
	}
	for _, e := range entries {
		e.Result = maskText(e.Result, rec.IdentityNumber)
		p.Timeline = append(p.Timeline, e)
	}
	if !fleet.Final(rec.State) || rec.State == fleet.StateRepairQueued {
		pd.Refresh = liveRefresh
	}
	if revealed != nil || len(fieldErrors) > 0 {
		pd.Refresh = 0 // the values are shown once, and a form is being filled
	}
	// A reload shows the agent's page as it is now: not the answer to a
	// form (which the browser would ask for with GET), nor again the
	// message of the action taken.
	pd.RefreshURL = fmt.Sprintf("/agents/%d", line)
	pd.Work = c.describeWork(r)
	pd.Page = p
	c.render(w, r, status, "agent", pd)
}

// failed answers 500 for an error reading or changing the run; the error
// is logged and shown masked.
func (c *consoleServer) failed(w http.ResponseWriter, r *http.Request, what string, err error) {
	c.Logger.Error("console: "+what+" failed", "path", r.URL.Path, "err", maskText(err.Error()))
	c.refuse(w, http.StatusInternalServerError, "Failed "+what+": "+maskText(strings.TrimPrefix(err.Error(), "fleet: ")))
}
