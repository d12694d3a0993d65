package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/flipkyc/flipkyc"
)

// Agent data comes from flags, one per field, or from a JSON object with
// Flip's field names (--from-json FILE, or - for stdin), or both: flags set
// on the command line win. The JSON form is the one "agent get|create|update
// --json" prints, so an agent can be read, edited and sent back.
//
// Errors name the field and the rule, never the value: the values are
// personal data.

// fieldKind says how a field's text is read.
type fieldKind int

const (
	kindText fieldKind = iota
	kindID
	kindDate
	kindBool
)

// agentField is one field of AgentParams and RepairDataParams.
type agentField struct {
	flag, wire string
	kind       fieldKind
	usage      string
	noRepair   bool // RepairDataParams has no such field
}

var agentFields = []agentField{
	{flag: "name", wire: "name", usage: "full name, as on the identity card"},
	{flag: "identity-type", wire: "identity_type", usage: "ktp or passport"},
	{flag: "identity-number", wire: "identity_number", usage: "NIK (KTP) or passport number"},
	{flag: "birth-date", wire: "birth_date", kind: kindDate, usage: "DD-MM-YYYY (or YYYY-MM-DD)"},
	{flag: "birth-place", wire: "birth_place", usage: "place of birth"},
	{flag: "gender", wire: "gender", usage: "male or female"},
	{flag: "occupation", wire: "occupation", usage: "housewife, entrepreneur, private_employee, government_employee, foundation_board, indonesian_migrant_worker, company or others"},
	{flag: "country-id", wire: "country_id", kind: kindID, usage: "from 'flipkyc locations countries'"},
	{flag: "province-id", wire: "province_id", kind: kindID, usage: "from 'flipkyc locations provinces COUNTRY_ID'"},
	{flag: "city-id", wire: "city_id", kind: kindID, usage: "from 'flipkyc locations cities PROVINCE_ID'"},
	{flag: "district-id", wire: "district_id", kind: kindID, usage: "from 'flipkyc locations districts CITY_ID'"},
	{flag: "address", wire: "address", usage: "address on the identity card"},
	{flag: "phone", wire: "phone_number", usage: "the phone number the company verified: 0… or +62…"},
	{flag: "email", wire: "email", usage: "e-mail address (optional)", noRepair: true},
	{flag: "use-identity-address", wire: "use_identity_address", kind: kindBool, usage: "the agent lives at the identity card's address (optional)"},
	{flag: "residence-country-id", wire: "residence_country_id", kind: kindID, usage: "residence country id (optional)"},
	{flag: "residence-province-id", wire: "residence_province_id", kind: kindID, usage: "residence province id (optional)"},
	{flag: "residence-city-id", wire: "residence_city_id", kind: kindID, usage: "residence city id (optional)"},
	{flag: "residence-district-id", wire: "residence_district_id", kind: kindID, usage: "residence district id (optional)"},
	{flag: "residence-address", wire: "residence_address", usage: "residence address (optional)"},
}

// agentInput collects the fields given on the command line, as text by wire
// name, and the --from-json source.
type agentInput struct {
	repair   bool
	fromJSON string
	flags    map[string]string
}

// register defines the field flags and --from-json on fs.
func (in *agentInput) register(fs *flag.FlagSet, repair bool) {
	in.repair, in.flags = repair, map[string]string{}
	fs.StringVar(&in.fromJSON, "from-json", "", "read the fields from a JSON object with Flip's field names (FILE, or - for stdin); keeps personal data out of shell history; flags given too win")
	for _, f := range agentFields {
		if repair && f.noRepair {
			continue
		}
		wire := f.wire
		if f.kind == kindBool {
			fs.Var(boolFlag{in.flags, wire}, f.flag, f.usage)
			continue
		}
		fs.Func(f.flag, f.usage, func(v string) error {
			in.flags[wire] = v
			return nil
		})
	}
}

// boolFlag is a boolean field flag: "--use-identity-address" alone is true.
type boolFlag struct {
	into map[string]string
	wire string
}

func (b boolFlag) String() string   { return "" }
func (b boolFlag) IsBoolFlag() bool { return true }
func (b boolFlag) Set(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return errors.New("want true or false")
	}
	b.into[b.wire] = v
	return nil
}

// values returns the fields as text by wire name: those of the JSON object,
// then the flags over them.
func (in *agentInput) values(stdin io.Reader) (map[string]string, error) {
	vals := map[string]string{}
	if in.fromJSON != "" {
		var data []byte
		var err error
		if in.fromJSON == "-" {
			data, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
		} else {
			data, err = os.ReadFile(in.fromJSON)
		}
		if err != nil {
			return nil, inputErrorf("--from-json: %v", err)
		}
		if vals, err = decodeFields(data, in.repair); err != nil {
			return nil, err
		}
	}
	for k, v := range in.flags {
		vals[k] = v
	}
	return vals, nil
}

// decodeFields reads a JSON object's known fields as text; other fields
// (an agent's id, kyc_status, country_name…) are ignored.
func decodeFields(data []byte, repair bool) (map[string]string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, inputErrorf("--from-json: not valid JSON (syntax error at byte %d)", se.Offset)
		}
		return nil, inputErrorf("--from-json: want a JSON object with Flip's field names")
	}
	vals := map[string]string{}
	for _, f := range agentFields {
		raw, ok := obj[f.wire]
		if !ok {
			continue
		}
		if repair && f.noRepair {
			return nil, inputErrorf("--from-json: %s: repair data does not take this field", f.wire)
		}
		raw = bytes.TrimSpace(raw)
		switch {
		case bytes.Equal(raw, []byte("null")):
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, inputErrorf("--from-json: %s: not a valid JSON string", f.wire)
			}
			vals[f.wire] = s
		case bytes.Equal(raw, []byte("true")), bytes.Equal(raw, []byte("false")):
			vals[f.wire] = string(raw)
		case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
			vals[f.wire] = string(raw)
		default:
			return nil, inputErrorf("--from-json: %s: want a string, a number or a boolean", f.wire)
		}
	}
	return vals, nil
}

// typed reads the text values into their types.
type typed struct {
	text  map[string]string
	ids   map[string]int64
	date  flipkyc.Date
	useID *bool
}

// parseValues reads the values it can and returns, for the others, the
// field and the rule each breaks.
func parseValues(vals map[string]string) (typed, []flipkyc.FieldError) {
	t := typed{text: map[string]string{}, ids: map[string]int64{}}
	var problems []flipkyc.FieldError
	problem := func(field, rule string) { problems = append(problems, flipkyc.FieldError{Field: field, Rule: rule}) }
	for _, f := range agentFields {
		v, ok := vals[f.wire]
		if !ok {
			continue
		}
		switch f.kind {
		case kindText:
			t.text[f.wire] = v
		case kindID:
			if v == "" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				problem(f.wire, "want a whole number")
				continue
			}
			t.ids[f.wire] = n
		case kindDate:
			if v == "" {
				continue
			}
			d, err := flipkyc.ParseDate(v)
			if err != nil {
				problem(f.wire, "want a date DD-MM-YYYY or YYYY-MM-DD")
				continue
			}
			t.date = d
		case kindBool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				problem(f.wire, "want true or false")
				continue
			}
			t.useID = &b
		}
	}
	return t, problems
}

// invalidInput returns, when values could not be read, one
// *flipkyc.ValidationError with them and every rule the rest breaks
// (validate's, the SDK's own check), so that every broken field is reported
// at once; nil when every value was read (the SDK's call checks the rest).
func invalidInput(op string, unreadable []flipkyc.FieldError, validate func() error) error {
	if len(unreadable) == 0 {
		return nil
	}
	fields := slices.Clone(unreadable)
	var ve *flipkyc.ValidationError
	if errors.As(validate(), &ve) {
		for _, f := range ve.Fields {
			if !slices.ContainsFunc(unreadable, func(u flipkyc.FieldError) bool { return u.Field == f.Field }) {
				fields = append(fields, f)
			}
		}
	}
	return &flipkyc.ValidationError{Op: op, Fields: fields}
}

// identityType reads ktp, passport, 1 or 2 in any case.
func identityType(v string) flipkyc.IdentityType {
	switch v = strings.ToLower(strings.TrimSpace(v)); v {
	case "1":
		return flipkyc.IdentityKTP
	case "2":
		return flipkyc.IdentityPassport
	}
	return flipkyc.IdentityType(v)
}

// gender reads male, female, 1 or 2 in any case.
func gender(v string) flipkyc.Gender {
	switch v = strings.ToLower(strings.TrimSpace(v)); v {
	case "1":
		return flipkyc.GenderMale
	case "2":
		return flipkyc.GenderFemale
	}
	return flipkyc.Gender(v)
}

func occupation(v string) flipkyc.Occupation {
	return flipkyc.Occupation(strings.ToLower(strings.TrimSpace(v)))
}

// agentParams builds the parameters of create and update (op, the SDK's
// name of the call, for errors).
func (in *agentInput) agentParams(stdin io.Reader, op string) (flipkyc.AgentParams, error) {
	vals, err := in.values(stdin)
	if err != nil {
		return flipkyc.AgentParams{}, err
	}
	t, unreadable := parseValues(vals)
	p := flipkyc.AgentParams{
		Name: t.text["name"], IdentityType: identityType(t.text["identity_type"]),
		IdentityNumber: t.text["identity_number"], BirthDate: t.date, BirthPlace: t.text["birth_place"],
		CountryID: t.ids["country_id"], ProvinceID: t.ids["province_id"], CityID: t.ids["city_id"], DistrictID: t.ids["district_id"],
		Address: t.text["address"], Gender: gender(t.text["gender"]), Occupation: occupation(t.text["occupation"]),
		PhoneNumber: t.text["phone_number"], UseIdentityAddress: t.useID,
		ResidenceCountryID: t.ids["residence_country_id"], ResidenceProvinceID: t.ids["residence_province_id"],
		ResidenceCityID: t.ids["residence_city_id"], ResidenceDistrictID: t.ids["residence_district_id"],
		ResidenceAddress: t.text["residence_address"], Email: t.text["email"],
	}
	return p, invalidInput(op, unreadable, p.Validate)
}

// repairParams builds the parameters of repair data: only what is given.
func (in *agentInput) repairParams(stdin io.Reader) (flipkyc.RepairDataParams, error) {
	vals, err := in.values(stdin)
	if err != nil {
		return flipkyc.RepairDataParams{}, err
	}
	t, unreadable := parseValues(vals)
	p := flipkyc.RepairDataParams{
		Name: t.text["name"], IdentityType: identityType(t.text["identity_type"]),
		IdentityNumber: t.text["identity_number"], BirthDate: t.date, BirthPlace: t.text["birth_place"],
		Gender: gender(t.text["gender"]), Occupation: occupation(t.text["occupation"]),
		CountryID: t.ids["country_id"], ProvinceID: t.ids["province_id"], CityID: t.ids["city_id"], DistrictID: t.ids["district_id"],
		Address: t.text["address"], ResidenceAddress: t.text["residence_address"],
		ResidenceCountryID: t.ids["residence_country_id"], ResidenceProvinceID: t.ids["residence_province_id"],
		ResidenceCityID: t.ids["residence_city_id"], ResidenceDistrictID: t.ids["residence_district_id"],
		PhoneNumber: t.text["phone_number"], UseIdentityAddress: t.useID,
	}
	return p, invalidInput("RepairData", unreadable, p.Validate)
}

// parseID reads a positional id; the value is not repeated in the error.
func parseID(what, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, usagef("%s must be a positive whole number", what)
	}
	return n, nil
}

// openImage opens an image file for upload; an *os.File can be re-read, so
// the SDK may retry the upload where that is safe.
func openImage(path string) (flipkyc.Image, func(), error) {
	f, err := os.Open(path)
	if err != nil {
		// The path is left out: a file name may hold a person's name.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return flipkyc.Image{}, nil, inputErrorf("cannot open the image file: %v", err)
	}
	return flipkyc.Image{Name: path, Content: f}, func() { _ = f.Close() }, nil
}
