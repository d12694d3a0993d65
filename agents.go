package flipkyc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/internal/backoff"
)

// AgentParams is an agent's identity data, as sent to CreateAgent and
// UpdateAgent. Update replaces the whole record, so it takes the same full
// set of fields. The fields up to PhoneNumber are required; the rules given
// with each field are the ones Validate checks. Free-text fields must be
// valid UTF-8 without control or text-direction characters or surrounding
// spaces.
//
// It prints (under every fmt verb) with its personal data masked.
type AgentParams struct {
	Name           string       // full name, 1 to 50 characters
	IdentityType   IdentityType // IdentityKTP or IdentityPassport
	IdentityNumber string       // at most 16 characters for a KTP, 20 for a passport
	BirthDate      Date         // a real calendar day
	BirthPlace     string       // at most 255 characters
	CountryID      int64        // an id from ListCountries
	ProvinceID     int64        // an id from ListProvinces
	CityID         int64        // an id from ListCities
	DistrictID     int64        // an id from ListDistricts
	Address        string       // the identity document's street address: 10 to 300 of A-Z a-z 0-9, spaces and . - / ( )
	Gender         Gender       // GenderMale or GenderFemale
	Occupation     Occupation   // one of the Occupation constants
	// PhoneNumber is the number the company verified: a leading 0 and 8 to
	// 24 characters, or a leading + and 10 to 26 characters.
	PhoneNumber string

	// Optional fields; zero values are not sent.
	UseIdentityAddress  *bool  // the agent lives at the identity document's address; see Ptr
	ResidenceCountryID  int64  // where the agent lives, if not at Address: an id from ListCountries
	ResidenceProvinceID int64  // an id from ListProvinces
	ResidenceCityID     int64  // an id from ListCities
	ResidenceDistrictID int64  // an id from ListDistricts
	ResidenceAddress    string // as Address: 10 to 300 characters
	Email               string // an address like name@example.com
}

// personalValues returns p's personal data, for masking in errors.
func (p *AgentParams) personalValues() []string {
	return personalForms(append([]string{p.IdentityNumber, p.PhoneNumber, p.Email}, dateForms(p.BirthDate)...),
		p.Name, p.BirthPlace, p.Address, p.ResidenceAddress)
}

// Ptr returns a pointer to a copy of v, for optional fields such as
// UseIdentityAddress.
func Ptr[T any](v T) *T { return &v }

// Validate checks p against every rule Flip documents for create and update,
// as CreateAgent and UpdateAgent do before sending, and returns a
// *ValidationError listing each broken rule, in field order, or nil. It
// cannot check what only Flip knows: that the location ids exist and nest,
// and that the identity and phone numbers are not registered already.
func (p AgentParams) Validate() error {
	var v fieldErrors
	p.check(&v)
	return v.err("AgentParams")
}

// check records every documented rule p breaks.
func (p *AgentParams) check(v *fieldErrors) { checkIdentity(v, p, false) }

// form encodes p in the v2 agents API's wire form,
// application/x-www-form-urlencoded; optional fields are sent only when set.
func (p *AgentParams) form() string {
	e := formEncoder{b: make([]byte, 0, 512)}
	encodeIdentity(&e, p, agentsAPI, false)
	return string(e.b)
}

// formEncoder writes form fields in the order given, without the map and
// sorting of url.Values.
type formEncoder struct{ b []byte }

func (e *formEncoder) add(name, value string) {
	if len(e.b) > 0 {
		e.b = append(e.b, '&')
	}
	e.b = append(e.b, name...)
	e.b = append(e.b, '=')
	e.b = append(e.b, url.QueryEscape(value)...)
}

// addID adds an id field when it is set (non-zero).
func (e *formEncoder) addID(name string, id int64) {
	if id == 0 {
		return
	}
	if len(e.b) > 0 {
		e.b = append(e.b, '&')
	}
	e.b = append(e.b, name...)
	e.b = append(e.b, '=')
	e.b = strconv.AppendInt(e.b, id, 10)
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Agent is an agent as the v2 agents API returns it. Create and Update return
// the full record; Get returns a smaller one (no birth, gender, occupation,
// address or location fields) that adds the rejection, the account status
// and the creation time. Absent ids are zero, absent texts empty.
//
// It prints (under every fmt verb) with its personal data masked; its JSON
// form, with Flip's field names, keeps them.
type Agent struct {
	ID             int64        `json:"id"`                    // Flip's id of the agent
	CompanyID      int64        `json:"company_id"`            // Flip's id of the company the agent belongs to
	Name           string       `json:"name"`                  // full name
	IdentityType   IdentityType `json:"identity_type"`         // IdentityKTP or IdentityPassport
	IdentityNumber string       `json:"identity_number"`       // the KTP number (NIK) or passport number
	BirthPlace     string       `json:"birth_place,omitempty"` // place of birth
	BirthDate      Date         `json:"birth_date,omitzero"`   // date of birth
	Gender         Gender       `json:"gender,omitempty"`      // GenderMale or GenderFemale

	// CountryID to Address are the identity document's address: the
	// location ids sent, from ListCountries and the other look-ups, with
	// Flip's names for them.
	CountryID    int64  `json:"country_id,omitempty"`
	CountryName  string `json:"country_name,omitempty"`  // such as "Indonesia"
	ProvinceID   int64  `json:"province_id,omitempty"`   // an id from ListProvinces
	ProvinceName string `json:"province_name,omitempty"` // such as "Jawa Barat"
	CityID       int64  `json:"city_id,omitempty"`       // an id from ListCities
	CityName     string `json:"city_name,omitempty"`     // such as "Kota Depok"
	DistrictID   int64  `json:"district_id,omitempty"`   // an id from ListDistricts
	DistrictName string `json:"district_name,omitempty"` // such as "Sukmajaya"
	Address      string `json:"address,omitempty"`       // the street address

	// ResidenceCountryID to ResidenceAddress are where the agent lives, in
	// the same form, when it was given apart from the identity document's
	// address; zero and empty otherwise.
	ResidenceCountryID    int64  `json:"residence_country_id,omitempty"`
	ResidenceCountryName  string `json:"residence_country_name,omitempty"`  // Flip's name for ResidenceCountryID
	ResidenceProvinceID   int64  `json:"residence_province_id,omitempty"`   // an id from ListProvinces
	ResidenceProvinceName string `json:"residence_province_name,omitempty"` // Flip's name for ResidenceProvinceID
	ResidenceCityID       int64  `json:"residence_city_id,omitempty"`       // an id from ListCities
	ResidenceCityName     string `json:"residence_city_name,omitempty"`     // Flip's name for ResidenceCityID
	ResidenceDistrictID   int64  `json:"residence_district_id,omitempty"`   // an id from ListDistricts
	ResidenceDistrictName string `json:"residence_district_name,omitempty"` // Flip's name for ResidenceDistrictID
	ResidenceAddress      string `json:"residence_address,omitempty"`       // the street address

	Occupation  Occupation `json:"occupation,omitempty"` // one of the Occupation constants, or as received
	PhoneNumber string     `json:"phone_number"`         // as Flip stores it: a local 0… number has come back as +62…
	Email       string     `json:"email,omitempty"`      // the optional e-mail address

	// KYCStatus is where the agent stands in Flip's KYC flow.
	KYCStatus KYCStatus `json:"kyc_status"`
	// RejectedReasonCode says why Flip rejected the agent or its upload,
	// zero when it did not (GetAgent only).
	RejectedReasonCode RejectionCode `json:"rejected_reason_code,omitzero"`
	// RejectedReason is Flip's text for RejectedReasonCode; match on the
	// code, not on the text (GetAgent only).
	RejectedReason string `json:"rejected_reason,omitempty"`
	// Status is the agent's account status, separate from its KYC status
	// (GetAgent only).
	Status AgentStatus `json:"status,omitempty"`
	// CreatedAt is when Flip registered the agent (GetAgent only).
	CreatedAt Timestamp `json:"created_at,omitzero"`
}

// Params returns the agent's data as AgentParams, ready to change and pass
// to UpdateAgent, which replaces the whole record. An agent from CreateAgent
// or UpdateAgent carries every field but UseIdentityAddress, which Flip does
// not return; one from GetAgent also lacks the birth, gender, occupation,
// address and location fields, which must then be filled in before the
// update (UpdateAgent reports each missing one).
func (a *Agent) Params() AgentParams {
	return AgentParams{
		Name: a.Name, IdentityType: a.IdentityType, IdentityNumber: a.IdentityNumber,
		BirthDate: a.BirthDate, BirthPlace: a.BirthPlace,
		CountryID: a.CountryID, ProvinceID: a.ProvinceID, CityID: a.CityID, DistrictID: a.DistrictID,
		Address: a.Address, Gender: a.Gender, Occupation: a.Occupation, PhoneNumber: a.PhoneNumber,
		ResidenceCountryID: a.ResidenceCountryID, ResidenceProvinceID: a.ResidenceProvinceID,
		ResidenceCityID: a.ResidenceCityID, ResidenceDistrictID: a.ResidenceDistrictID,
		ResidenceAddress: a.ResidenceAddress, Email: a.Email,
	}
}

// agentReply decodes an agent in one pass, accepting its id and company id
// as numbers or numeric strings. Location ids are numbers; null leaves them
// zero.
type agentReply struct {
	agentFields
	ID        flexInt `json:"id"`
	CompanyID flexInt `json:"company_id"`
	// Dates and times are read as plain strings and parsed afterwards,
	// which spares encoding/json two custom decoders.
	BirthDate *string `json:"birth_date"`
	CreatedAt *string `json:"created_at"`
}

// agentFields is Agent without its methods, so agentReply can embed it.
type agentFields Agent

// agent returns the decoded agent, which shares r's memory.
func (r *agentReply) agent() *Agent {
	a := (*Agent)(&r.agentFields)
	a.ID, a.CompanyID = int64(r.ID), int64(r.CompanyID)
	if r.BirthDate != nil && *r.BirthDate != "" {
		a.BirthDate = dateFromText(strings.TrimSpace(*r.BirthDate))
	}
	if r.CreatedAt != nil && *r.CreatedAt != "" {
		a.CreatedAt, _ = ParseTimestamp(*r.CreatedAt) // an unknown layout stays visible in Raw
	}
	return a
}

func (r *agentReply) checkResponse() error {
	if r.ID <= 0 {
		return errors.New("agent has no id")
	}
	return nil
}

func (*agentReply) lenient() {}

// UnmarshalJSON decodes an agent leniently: every id as a number or a
// numeric string, unknown enum values kept, nulls left zero, and a field of
// an unexpected type converted where its meaning is plain or left zero,
// rather than failing the whole agent. Only text that is not a JSON object
// is an error.
func (a *Agent) UnmarshalJSON(b []byte) error {
	var r agentReply
	if err := decodeReply(b, &r); err != nil {
		return err
	}
	*a = *r.agent()
	return nil
}

// CreateAgent registers an agent with Flip (POST /v2/agents). The new agent's
// KYC status is StatusBasicData. Flip refuses a second agent of the company
// with the same identity or phone number (ErrDuplicate).
//
// A create is never repeated after its request may have reached Flip, since
// Flip offers no way to look an agent up by identity number. When it fails
// after that point (the connection broke, a gateway answered 5xx, or the
// reply holds no agent id), the error matches ErrOutcomeUnknown: the agent
// may exist, and its Request-ID is on the *OutcomeUnknownError. Any reply
// with an agent id is a success, whatever the form of its other fields.
func (c *Client) CreateAgent(ctx context.Context, p AgentParams, opts ...CallOption) (*Agent, error) {
	var v fieldErrors
	p.check(&v)
	if err := v.err("CreateAgent"); err != nil {
		return nil, err
	}
	var r agentReply
	err := c.do(ctx, call{op: "CreateAgent", method: http.MethodPost, api: agentsAPI, path: "/agents",
		form: p.form(), sent: &p}, &r, opts)
	if err != nil {
		return nil, explainOutcome(err, 0, nextCreate)
	}
	return r.agent(), nil
}

// UpdateAgent replaces an agent's identity data (PUT /v2/agents/{id}) and
// returns the full record. Every required field must be given, changed or
// not: Flip has no partial update (see Agent.Params). Flip may refuse to
// update an agent (ErrAgentNotUpdatable; it does not document when, and the
// fake in flipkyctest refuses agents under review or approved). Since a
// repeat cannot change the result, an update is retried as a read is.
func (c *Client) UpdateAgent(ctx context.Context, agentID int64, p AgentParams, opts ...CallOption) (*Agent, error) {
	var v fieldErrors
	v.agentID(agentID)
	p.check(&v)
	if err := v.err("UpdateAgent"); err != nil {
		return nil, err
	}
	var r agentReply
	err := c.do(ctx, call{op: "UpdateAgent", method: http.MethodPut, api: agentsAPI, path: agentPath(agentID),
		form: p.form(), repeatable: true, sent: &p}, &r, opts)
	if err != nil {
		return nil, err
	}
	return r.agent(), nil
}

// GetAgent reads an agent's identity data and KYC status (GET /v2/agents/{id}).
// The record lacks the birth, gender, occupation, address and location fields
// (see Agent); an unknown id fails with an error matching ErrNotFound.
func (c *Client) GetAgent(ctx context.Context, agentID int64, opts ...CallOption) (*Agent, error) {
	var v fieldErrors
	v.agentID(agentID)
	if err := v.err("GetAgent"); err != nil {
		return nil, err
	}
	var r agentReply
	if err := c.do(ctx, call{op: "GetAgent", method: http.MethodGet, api: agentsAPI, path: agentPath(agentID), repeatable: true}, &r, opts); err != nil {
		return nil, err
	}
	return r.agent(), nil
}

func agentPath(id int64) string { return "/agents/" + strconv.FormatInt(id, 10) }

// Polling of WaitForAgent: the first wait, and how far it backs off.
const (
	pollFirst   = 2 * time.Second
	pollBackoff = 30 // the longest wait, in first waits: a minute by default
)

// UntilFinal is a condition for WaitForAgent that reports whether Flip has
// approved or rejected the agent (KYCStatus.IsFinal).
func UntilFinal(a *Agent) bool { return a.KYCStatus.IsFinal() }

// UntilStatus returns a condition for WaitForAgent that reports whether the
// agent is in one of the statuses.
func UntilStatus(statuses ...KYCStatus) func(*Agent) bool {
	return func(a *Agent) bool { return slices.Contains(statuses, a.KYCStatus) }
}

// WaitForAgent polls GetAgent until until reports true for the agent, and
// returns that agent. It is how a receiver reconciles a callback that never
// arrived: Flip sends each callback only once.
//
// The first poll is made at once. The waits between polls start at up to
// 2s (PollInterval sets another base) and back off, with jitter, to at most
// 30 times that. Passing failures (server errors, rate limits, the network)
// do not end the wait; other errors (unknown agent, bad key, a reply that
// cannot be decoded) are returned at once, with the last agent seen. When
// ctx ends first, WaitForAgent returns the last agent it saw, which may be
// nil, with an error matching ctx's error. Of opts, Retry applies to every
// poll, RequestID to the first one only (each poll is a call of its own),
// ResponseInto to the last one and PollInterval to the waits.
func (c *Client) WaitForAgent(ctx context.Context, agentID int64, until func(*Agent) bool, opts ...CallOption) (*Agent, error) {
	co := resolveCallOptions(opts)
	var v fieldErrors
	v.agentID(agentID)
	if until == nil {
		v.add("until", "is required")
	}
	if co.poll < 0 {
		v.add("PollInterval", "must not be negative")
	}
	if err := v.err("WaitForAgent"); err != nil {
		return nil, err
	}
	first := pollFirst
	if co.poll > 0 {
		first = co.poll
	}
	longest := time.Duration(math.MaxInt64)
	if first < longest/pollBackoff {
		longest = pollBackoff * first
	}
	// Every poll fills last, so that an error at the end can name the
	// last request sent; the caller's response, if any, is filled from it.
	var lastResp Response
	poll := []CallOption{ResponseInto(&lastResp)}
	if co.retry != nil {
		poll = append(poll, Retry(*co.retry))
	}
	if co.response != nil {
		defer func() { *co.response = lastResp }()
	}
	var last *Agent
	for n := 1; ; n++ {
		callOpts := poll
		if n == 1 && co.requestID != "" {
			callOpts = append(poll[:len(poll):len(poll)], RequestID(co.requestID))
		}
		a, err := c.GetAgent(ctx, agentID, callOpts...)
		switch {
		case err == nil:
			last = a
			if until(a) {
				return a, nil
			}
		case ctx.Err() != nil:
			return last, waitEnded(agentID, ctx.Err(), err, lastResp.RequestID)
		case !passing(err):
			return last, err
		}
		if serr := c.clock.Sleep(ctx, backoff.Exponential(first, longest, n)); serr != nil {
			return last, waitEnded(agentID, serr, err, lastResp.RequestID)
		}
	}
}

// waitEnded is WaitForAgent's error when its context ends: it matches the
// context's error and the last poll's failure, if it had one, and names the
// last poll's Request-ID.
func waitEnded(agentID int64, ctxErr, pollErr error, requestID string) error {
	if pollErr != nil && !errors.Is(pollErr, ctxErr) {
		return fmt.Errorf("flipkyc: WaitForAgent: agent %d: %w; the last poll failed: %w", agentID, ctxErr, pollErr)
	}
	if pollErr != nil {
		return fmt.Errorf("flipkyc: WaitForAgent: agent %d: %w", agentID, pollErr)
	}
	return fmt.Errorf("flipkyc: WaitForAgent: agent %d: %w [last Request-ID %s]", agentID, ctxErr, requestID)
}

// passing reports whether err may go away by itself: a server error, a rate
// limit or a network failure, rather than a refusal of the request.
func passing(err error) bool {
	var apiErr *APIError
	var ve *ValidationError
	var de *DecodeError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.StatusCode >= 500 || apiErr.StatusCode == http.StatusTooManyRequests
	case errors.As(err, &ve), errors.As(err, &de):
		return false
	}
	return true
}
