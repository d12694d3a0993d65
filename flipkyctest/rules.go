package flipkyctest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flipkyc/flipkyc"
)

// The fake's own table of Flip's rules for agent data, written from Flip's
// documentation (the reference's §4.1 Create, §4.2 Update, §4.7 Repair Data,
// §7 errors and §8 inconsistencies), never from the SDK's validation: the
// fake judges the raw form values a request carried, so that a client-side
// rule of the SDK that is wrong shows up as a disagreement instead of being
// copied. Only documented rules are checked; where the docs are silent the
// fake accepts.
//
// A field sent with an empty value counts as not sent (§7.1's code 1001
// reads "attribute must not be empty"): an empty required field is missing,
// an empty optional one changes nothing.

// family is the API family a form was sent to. The two write identity type
// and gender differently (§8 #1, #2) and answer errors in their own shapes
// (§7).
type family int

const (
	agentsAPI  family = iota // create and update: v2 agents API, 422 VALIDATION_ERROR
	kycService               // repair data: KYC service, 400 {"errors":[…]}
)

// need says whether an endpoint takes a field.
type need int

const (
	notAField need = iota // not documented for the endpoint: ignored if sent
	optional
	required
)

// kind is a kind of broken rule with the inner error code Flip documents for
// it in each family: §7.1 (codes the v2 agents API uses in its 422 body) and
// §7.2 (the KYC service's list).
type kind struct{ agents, kyc int }

var (
	ruleMissing      = kind{1001, 1001} // attribute must not be empty / attribute payload is empty
	ruleTooLong      = kind{1024, 4001} // maximum length exceeded / invalid input parameter
	ruleLength       = kind{2001, 4001} // must contain at least / at most n characters
	ruleNotClean     = kind{2003, 2003} // characters outside the allowed set ("not clean", "non-sterile")
	ruleDateForm     = kind{1039, 4001} // invalid date format
	ruleDate         = kind{1040, 4001} // invalid date
	ruleDigits       = kind{1020, 4001} // digits only
	ruleValue        = kind{1041, 4001} // invalid attribute
	ruleIdentityType = kind{1041, 4004} // the KYC list has its own code for the identity type
	kycMessages      = map[int]string{
		1001: "Attribute payload is empty",
		2003: "Param attribute contains non-sterile characters",
		4001: "Invalid input parameter",
		4004: "Invalid identity type",
	}
	digitsOnly  = regexp.MustCompile(`^[0-9]+$`)
	ddmmyyyy    = regexp.MustCompile(`^[0-9]{2}-[0-9]{2}-[0-9]{4}$`)
	addressForm = regexp.MustCompile(addressPattern)
)

// addressPattern is the documented address regex, ^[a-zA-Z0-9\s\.\-\/\(\)]+$,
// with \s spelled out as in ECMAScript, the regex dialect of the OpenAPI page
// that gives it: tab, line feed, vertical tab, form feed, carriage return,
// space, no-break spaces and the other Unicode space separators, the line
// and paragraph separators and the byte-order mark. (Go's \s is only
// [\t\n\f\r ].)
const addressPattern = `^[a-zA-Z0-9\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}.\-/()]+$`

// breach is one broken rule: its kind and what the rule asks for, worded
// without the value sent, which may be personal data.
type breach struct {
	kind
	rule string
}

// judging is what a check may look at besides the value: the family, the
// whole form, and the agent a repair changes (nil on create and update).
type judging struct {
	fam    family
	form   map[string]string
	stored *agent
}

// check judges one sent, non-empty value and returns the rule it breaks, or
// nil.
type check func(v string, j *judging) *breach

// fieldRule is one field of an agent's data, described once for both
// families.
type fieldRule struct {
	wire   string // the form field's name, the same in both families
	agents need   // on create and update (§4.1, §4.2; update is a full replacement)
	repair need   // on repair data (§4.7: every field but user_type is optional)
	check  check  // the documented rule for a sent value; nil when there is none
	// agentsOnly: the rule is documented for create and update only.
	agentsOnly bool
	// store copies an accepted value into the agent's data.
	store func(p *flipkyc.AgentParams, v string)
}

// agentFields is the table of rules, in the order of the docs' field tables.
var agentFields = []fieldRule{
	// §4.1: alphanumeric, 1-50 characters; §4.7: non-empty, at most 50.
	// "Alphanumeric" is not checked: the docs' own examples ("John Doe")
	// hold spaces, and the character set is not stated (§8 #32).
	{wire: "name", agents: required, repair: optional, check: checkMaxChars(50),
		store: func(p *flipkyc.AgentParams, v string) { p.Name = v }},
	// §4.1: ktp, passport; §4.7: 1 KTP, 2 passport; KYC code 4004.
	{wire: "identity_type", agents: required, repair: optional,
		check: checkOneOf(ruleIdentityType, []string{"ktp", "passport"}, []string{"1", "2"}),
		store: func(p *flipkyc.AgentParams, v string) { p.IdentityType = identityTypeOf(v) }},
	// At most 16 characters for a KTP, 20 for a passport: a maximum, not an
	// exact length (§8 #33). On repair the type is the one sent, or else the
	// agent's.
	{wire: "identity_number", agents: required, repair: optional, check: checkIdentityNumber,
		store: func(p *flipkyc.AgentParams, v string) { p.IdentityNumber = v }},
	{wire: "birth_date", agents: required, repair: optional, check: checkDate,
		store: func(p *flipkyc.AgentParams, v string) {
			t, _ := time.Parse("02-01-2006", v)
			p.BirthDate = flipkyc.DateOf(t)
		}},
	// Alphanumeric (not checked, as for name), at most 255 characters.
	{wire: "birth_place", agents: required, repair: optional, check: checkMaxChars(255),
		store: func(p *flipkyc.AgentParams, v string) { p.BirthPlace = v }},
	{wire: "country_id", agents: required, repair: optional, check: checkLocationID(countries),
		store: func(p *flipkyc.AgentParams, v string) { p.CountryID = atoi(v) }},
	{wire: "province_id", agents: required, repair: optional, check: checkLocationID(provinces),
		store: func(p *flipkyc.AgentParams, v string) { p.ProvinceID = atoi(v) }},
	{wire: "city_id", agents: required, repair: optional, check: checkLocationID(cities),
		store: func(p *flipkyc.AgentParams, v string) { p.CityID = atoi(v) }},
	{wire: "district_id", agents: required, repair: optional, check: checkLocationID(districts),
		store: func(p *flipkyc.AgentParams, v string) { p.DistrictID = atoi(v) }},
	// 10-300 characters matching ^[a-zA-Z0-9\s\.\-\/\(\)]+$ (§4.1, §4.7).
	{wire: "address", agents: required, repair: optional, check: checkAddress,
		store: func(p *flipkyc.AgentParams, v string) { p.Address = v }},
	// §4.1: male, female; §4.7: 1 male, 2 female.
	{wire: "gender", agents: required, repair: optional,
		check: checkOneOf(ruleValue, []string{"male", "female"}, []string{"1", "2"}),
		store: func(p *flipkyc.AgentParams, v string) { p.Gender = genderOf(v) }},
	// The same eight values, lower case, for create, update and repair.
	{wire: "occupation", agents: required, repair: optional, check: checkOneOf(ruleValue, occupations, occupations),
		store: func(p *flipkyc.AgentParams, v string) { p.Occupation = flipkyc.Occupation(v) }},
	// §4.1: starting with 0, 8-24 characters; with +, 10-26. §4.7 gives no
	// rule but that the company verified the number, so repair accepts any.
	{wire: "phone_number", agents: required, repair: optional, check: checkPhone, agentsOnly: true,
		store: func(p *flipkyc.AgentParams, v string) { p.PhoneNumber = normalizePhone(v) }},
	{wire: "use_identity_address", agents: optional, repair: optional,
		check: checkOneOf(ruleValue, []string{"0", "1"}, []string{"0", "1"}),
		store: func(p *flipkyc.AgentParams, v string) { p.UseIdentityAddress = flipkyc.Ptr(v == "1") }},
	{wire: "residence_country_id", agents: optional, repair: optional, check: checkLocationID(countries),
		store: func(p *flipkyc.AgentParams, v string) { p.ResidenceCountryID = atoi(v) }},
	{wire: "residence_province_id", agents: optional, repair: optional, check: checkLocationID(provinces),
		store: func(p *flipkyc.AgentParams, v string) { p.ResidenceProvinceID = atoi(v) }},
	{wire: "residence_city_id", agents: optional, repair: optional, check: checkLocationID(cities),
		store: func(p *flipkyc.AgentParams, v string) { p.ResidenceCityID = atoi(v) }},
	{wire: "residence_district_id", agents: optional, repair: optional, check: checkLocationID(districts),
		store: func(p *flipkyc.AgentParams, v string) { p.ResidenceDistrictID = atoi(v) }},
	{wire: "residence_address", agents: optional, repair: optional, check: checkAddress,
		store: func(p *flipkyc.AgentParams, v string) { p.ResidenceAddress = v }},
	// §4.1: "alphanumeric in email form xxx@xxx.xxx"; only the form is
	// checked (as for name, "alphanumeric" cannot be meant literally: the @
	// and the dot are not). Not a repair field.
	{wire: "email", agents: optional, repair: notAField, check: checkEmail,
		store: func(p *flipkyc.AgentParams, v string) { p.Email = v }},
}

var occupations = []string{"housewife", "entrepreneur", "private_employee", "government_employee",
	"foundation_board", "indonesian_migrant_worker", "company", "others"}

func (r *fieldRule) need(fam family) need {
	if fam == kycService {
		return r.repair
	}
	return r.agents
}

// fieldBreach is a broken rule of a named field.
type fieldBreach struct {
	field string
	breach
}

// judgeForm applies the table to a form sent to fam's endpoint and returns the
// broken rules, at most one per field, in table order. stored is the agent a
// repair changes.
func judgeForm(fam family, form map[string]string, stored *agent) []fieldBreach {
	j := &judging{fam: fam, form: form, stored: stored}
	var out []fieldBreach
	for i := range agentFields {
		r := &agentFields[i]
		n := r.need(fam)
		v := form[r.wire]
		switch {
		case n == notAField:
		case v == "":
			if n == required {
				out = append(out, fieldBreach{r.wire, breach{ruleMissing, "must not be empty"}})
			}
		case r.check != nil && (fam == agentsAPI || !r.agentsOnly):
			if b := r.check(v, j); b != nil {
				out = append(out, fieldBreach{r.wire, *b})
			}
		}
	}
	if fam == kycService && len(out) == 0 {
		// A repair that changes only the identity type must leave a number
		// that fits it.
		if form["identity_type"] != "" && form["identity_number"] == "" && stored != nil {
			if b := checkIdentityNumber(stored.params.IdentityNumber, j); b != nil {
				out = append(out, fieldBreach{"identity_number", *b})
			}
		}
	}
	return out
}

// repairFieldsSent reports whether a repair form sets any repair field.
func repairFieldsSent(form map[string]string) bool {
	for _, r := range agentFields {
		if r.repair != notAField && form[r.wire] != "" {
			return true
		}
	}
	return false
}

// storeFields copies the fields fam's endpoint takes from an accepted form
// into p; fields not sent leave p as it was.
func storeFields(p *flipkyc.AgentParams, fam family, form map[string]string) {
	for _, r := range agentFields {
		if v := form[r.wire]; v != "" && r.need(fam) != notAField {
			r.store(p, v)
		}
	}
}

// refusal is the reply to a form that breaks rules: the v2 agents API's 422
// VALIDATION_ERROR with an attribute per error, or the KYC service's 400 with
// the listed message and the field.
func refusal(fam family, bs []fieldBreach) (int, any) {
	errs := make([]map[string]any, 0, len(bs))
	for _, b := range bs {
		if fam == agentsAPI {
			errs = append(errs, map[string]any{"attribute": b.field, "code": b.agents, "message": b.field + " " + b.rule})
		} else {
			errs = append(errs, map[string]any{"code": b.kyc, "message": kycMessages[b.kyc] + ": " + b.field + " " + b.rule})
		}
	}
	if fam == agentsAPI {
		return http.StatusUnprocessableEntity, map[string]any{"code": "VALIDATION_ERROR", "errors": errs}
	}
	return http.StatusBadRequest, map[string]any{"errors": errs}
}

// maxChars: at most max characters (not bytes).
func checkMaxChars(max int) check {
	return func(v string, _ *judging) *breach {
		if utf8.RuneCountInString(v) > max {
			return &breach{ruleTooLong, fmt.Sprintf("must be at most %d characters", max)}
		}
		return nil
	}
}

// oneOf: one of the values listed for the family, exactly as written.
func checkOneOf(k kind, agents, kyc []string) check {
	return func(v string, j *judging) *breach {
		values := agents
		if j.fam == kycService {
			values = kyc
		}
		for _, ok := range values {
			if v == ok {
				return nil
			}
		}
		return &breach{k, "must be one of " + strings.Join(values, ", ")}
	}
}

// identityTypeOf reads an identity type in either family's form.
func identityTypeOf(v string) flipkyc.IdentityType {
	switch v {
	case "ktp", "1":
		return flipkyc.IdentityKTP
	case "passport", "2":
		return flipkyc.IdentityPassport
	}
	return ""
}

func genderOf(v string) flipkyc.Gender {
	switch v {
	case "male", "1":
		return flipkyc.GenderMale
	case "female", "2":
		return flipkyc.GenderFemale
	}
	return ""
}

// identityNumber: at most 16 characters for a KTP, 20 for a passport. The
// type is the one sent or, on a repair that sends none, the agent's; when it
// is unknown (itself refused) only the passport limit applies.
func checkIdentityNumber(v string, j *judging) *breach {
	t := identityTypeOf(j.form["identity_type"])
	if j.form["identity_type"] == "" && j.stored != nil {
		t = j.stored.params.IdentityType
	}
	max, what := 20, "passport"
	if t == flipkyc.IdentityKTP {
		max, what = 16, "KTP"
	}
	if utf8.RuneCountInString(v) > max {
		return &breach{ruleTooLong, fmt.Sprintf("must be at most %d characters for a %s", max, what)}
	}
	return nil
}

// date: DD-MM-YYYY, a real calendar day.
func checkDate(v string, _ *judging) *breach {
	if !ddmmyyyy.MatchString(v) {
		return &breach{ruleDateForm, "must be written DD-MM-YYYY"}
	}
	if _, err := time.Parse("02-01-2006", v); err != nil {
		return &breach{ruleDate, "must be a real calendar day"}
	}
	return nil
}

// locationID: an integer id from the location list in.
func checkLocationID(in []place) check {
	return func(v string, _ *judging) *breach {
		if !digitsOnly.MatchString(v) {
			return &breach{ruleDigits, "must be a location id, digits only"}
		}
		if _, ok := findPlace(atoi(v), in); !ok {
			return &breach{ruleValue, "must be an id from the location list"}
		}
		return nil
	}
}

// address: 10-300 characters matching the documented regex.
func checkAddress(v string, _ *judging) *breach {
	if n := utf8.RuneCountInString(v); n < 10 || n > 300 {
		return &breach{ruleLength, "must be 10 to 300 characters"}
	}
	if !addressForm.MatchString(v) {
		return &breach{ruleNotClean, "may contain only letters, digits, white space and . - / ( )"}
	}
	return nil
}

// phone: starting with 0, 8-24 characters; starting with +, 10-26. Which
// characters follow is not documented.
func checkPhone(v string, _ *judging) *breach {
	n := utf8.RuneCountInString(v)
	switch v[0] {
	case '0':
		if n < 8 || n > 24 {
			return &breach{ruleLength, "starting with 0 must be 8 to 24 characters"}
		}
	case '+':
		if n < 10 || n > 26 {
			return &breach{ruleLength, "starting with + must be 10 to 26 characters"}
		}
	default:
		return &breach{ruleValue, "must start with 0 or +"}
	}
	return nil
}

// email: the form xxx@xxx.xxx, that is one @ with text before it and, after
// it, at least two dot-separated parts, none empty.
func checkEmail(v string, _ *judging) *breach {
	local, domain, ok := strings.Cut(v, "@")
	valid := ok && local != "" && !strings.Contains(domain, "@") && strings.Contains(domain, ".")
	for _, label := range strings.Split(domain, ".") {
		valid = valid && label != ""
	}
	if !valid {
		return &breach{ruleValue, "must be an email address of the form xxx@xxx.xxx"}
	}
	return nil
}

// atoi reads an id the table has accepted (digits only); one too large for
// int64 reads as 0, which no list holds.
func atoi(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}
