package flipkyc

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// An agent is the reply the SDK decodes most often: CreateAgent,
// UpdateAgent, GetAgent and every poll of WaitForAgent. decodeFast reads
// its usual form (one flat JSON object of known fields whose values are
// strings without escapes, integers and nulls) in a single pass without
// reflection. Anything else, or anything it is not sure of, it leaves to
// encoding/json and the lenient decoding (decodeGeneral), which stay the
// reference: whenever decodeFast accepts a reply, its result is the one
// decodeGeneral gives (TestAgentFastDecodeMatchesGeneral, FuzzAgentFastDecode).

// agentKey names a field of an agent reply.
type agentKey uint8

const (
	keyID agentKey = iota
	keyCompanyID
	keyName
	keyIdentityType
	keyIdentityNumber
	keyBirthPlace
	keyBirthDate
	keyGender
	keyCountryID
	keyCountryName
	keyProvinceID
	keyProvinceName
	keyCityID
	keyCityName
	keyDistrictID
	keyDistrictName
	keyAddress
	keyResidenceCountryID
	keyResidenceCountryName
	keyResidenceProvinceID
	keyResidenceProvinceName
	keyResidenceCityID
	keyResidenceCityName
	keyResidenceDistrictID
	keyResidenceDistrictName
	keyResidenceAddress
	keyOccupation
	keyPhoneNumber
	keyEmail
	keyKYCStatus
	keyRejectedReasonCode
	keyRejectedReason
	keyStatus
	keyCreatedAt
	agentKeyCount
)

// agentKeys maps the JSON names of agentReply's fields to their keys; a test
// checks it against the struct's tags.
var agentKeys = map[string]agentKey{
	"id":                      keyID,
	"company_id":              keyCompanyID,
	"name":                    keyName,
	"identity_type":           keyIdentityType,
	"identity_number":         keyIdentityNumber,
	"birth_place":             keyBirthPlace,
	"birth_date":              keyBirthDate,
	"gender":                  keyGender,
	"country_id":              keyCountryID,
	"country_name":            keyCountryName,
	"province_id":             keyProvinceID,
	"province_name":           keyProvinceName,
	"city_id":                 keyCityID,
	"city_name":               keyCityName,
	"district_id":             keyDistrictID,
	"district_name":           keyDistrictName,
	"address":                 keyAddress,
	"residence_country_id":    keyResidenceCountryID,
	"residence_country_name":  keyResidenceCountryName,
	"residence_province_id":   keyResidenceProvinceID,
	"residence_province_name": keyResidenceProvinceName,
	"residence_city_id":       keyResidenceCityID,
	"residence_city_name":     keyResidenceCityName,
	"residence_district_id":   keyResidenceDistrictID,
	"residence_district_name": keyResidenceDistrictName,
	"residence_address":       keyResidenceAddress,
	"occupation":              keyOccupation,
	"phone_number":            keyPhoneNumber,
	"email":                   keyEmail,
	"kyc_status":              keyKYCStatus,
	"rejected_reason_code":    keyRejectedReasonCode,
	"rejected_reason":         keyRejectedReason,
	"status":                  keyStatus,
	"created_at":              keyCreatedAt,
}

// flatKind is the kind of a JSON value flatScanner read.
type flatKind uint8

const (
	flatString  flatKind = iota
	flatInteger          // an integer: no fraction, no exponent
	flatNull
	flatOther // true, false, or a number with a fraction or an exponent
)

// decodeFast decodes b into r and reports whether it could. When it
// reports false, r is zero and b is for decodeGeneral.
func (r *agentReply) decodeFast(b []byte) bool {
	*r = agentReply{}
	if r.fill(b) {
		return true
	}
	*r = agentReply{}
	return false
}

// fill reads the object in b field by field into r; false as soon as
// something is not of the usual form.
func (r *agentReply) fill(b []byte) bool {
	s := flatScanner{b: b}
	s.space()
	if !s.take('{') {
		return false
	}
	s.space()
	if s.take('}') {
		return s.end()
	}
	var seen uint64
	for {
		key, ascii, ok := s.str()
		if !ok || !ascii {
			return false
		}
		s.space()
		if !s.take(':') {
			return false
		}
		s.space()
		start := s.i
		kind, ok := s.scalar()
		if !ok {
			return false
		}
		value := b[start:s.i]
		k, known := agentKeys[string(key)]
		switch {
		case known:
			if seen&(1<<k) != 0 {
				return false // a repeated field: left to encoding/json's rules
			}
			seen |= 1 << k
			if !r.set(k, kind, value) {
				return false
			}
		case foldsToAgentKey(key):
			return false // encoding/json matches names case-insensitively
		}
		s.space()
		if s.take(',') {
			s.space()
			continue
		}
		if s.take('}') {
			return s.end()
		}
		return false
	}
}

// set stores the value of field k, read as kind from the JSON text value,
// as encoding/json would into agentReply; false when it would not succeed
// in the same way.
func (r *agentReply) set(k agentKey, kind flatKind, value []byte) bool {
	a := &r.agentFields
	// The fields of custom types decode through their own UnmarshalJSON,
	// as under encoding/json, which calls it for null too.
	switch k {
	case keyID:
		return r.ID.UnmarshalJSON(value) == nil
	case keyCompanyID:
		return r.CompanyID.UnmarshalJSON(value) == nil
	case keyIdentityType:
		return a.IdentityType.UnmarshalJSON(value) == nil
	case keyGender:
		return a.Gender.UnmarshalJSON(value) == nil
	case keyOccupation:
		return a.Occupation.UnmarshalJSON(value) == nil
	case keyKYCStatus:
		return a.KYCStatus.UnmarshalJSON(value) == nil
	case keyStatus:
		return a.Status.UnmarshalJSON(value) == nil
	case keyRejectedReasonCode:
		return a.RejectedReasonCode.UnmarshalJSON(value) == nil
	}
	if kind == flatNull {
		return true // a string, an integer or a pointer left as it is: zero
	}
	if p := r.intField(k); p != nil {
		if kind != flatInteger {
			return false
		}
		n, err := strconv.ParseInt(string(value), 10, 64)
		*p = n
		return err == nil
	}
	if kind != flatString {
		return false
	}
	text := string(value[1 : len(value)-1])
	switch k {
	case keyBirthDate:
		// What agent() does with the *string encoding/json fills.
		if text != "" {
			a.BirthDate = dateFromText(strings.TrimSpace(text))
		}
	case keyCreatedAt:
		if text != "" {
			a.CreatedAt, _ = ParseTimestamp(text)
		}
	default:
		*r.stringField(k) = text
	}
	return true
}

// intField returns the int64 field of k, or nil when k's is not one.
func (r *agentReply) intField(k agentKey) *int64 {
	a := &r.agentFields
	switch k {
	case keyCountryID:
		return &a.CountryID
	case keyProvinceID:
		return &a.ProvinceID
	case keyCityID:
		return &a.CityID
	case keyDistrictID:
		return &a.DistrictID
	case keyResidenceCountryID:
		return &a.ResidenceCountryID
	case keyResidenceProvinceID:
		return &a.ResidenceProvinceID
	case keyResidenceCityID:
		return &a.ResidenceCityID
	case keyResidenceDistrictID:
		return &a.ResidenceDistrictID
	}
	return nil
}

// stringField returns the string field of k, one of the keys not handled
// before it in set.
func (r *agentReply) stringField(k agentKey) *string {
	a := &r.agentFields
	switch k {
	case keyName:
		return &a.Name
	case keyIdentityNumber:
		return &a.IdentityNumber
	case keyBirthPlace:
		return &a.BirthPlace
	case keyCountryName:
		return &a.CountryName
	case keyProvinceName:
		return &a.ProvinceName
	case keyCityName:
		return &a.CityName
	case keyDistrictName:
		return &a.DistrictName
	case keyAddress:
		return &a.Address
	case keyResidenceCountryName:
		return &a.ResidenceCountryName
	case keyResidenceProvinceName:
		return &a.ResidenceProvinceName
	case keyResidenceCityName:
		return &a.ResidenceCityName
	case keyResidenceDistrictName:
		return &a.ResidenceDistrictName
	case keyResidenceAddress:
		return &a.ResidenceAddress
	case keyPhoneNumber:
		return &a.PhoneNumber
	case keyEmail:
		return &a.Email
	case keyRejectedReason:
		return &a.RejectedReason
	}
	panic("flipkyc: agent key without a field")
}

// foldsToAgentKey reports whether encoding/json could match key to a field
// of an agent reply by folding case: key is ASCII here.
func foldsToAgentKey(key []byte) bool {
	var buf [32]byte
	if len(key) > len(buf) {
		return false // longer than every field's name
	}
	lower := buf[:len(key)]
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	_, ok := agentKeys[string(lower)]
	return ok
}

// flatScanner reads the JSON of a flat object: strings without escapes,
// numbers and literals; it reports anything else as not understood.
type flatScanner struct {
	b []byte
	i int
}

func (s *flatScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// take consumes c if it is next.
func (s *flatScanner) take(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space follows.
func (s *flatScanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// str reads a string without escapes and returns its content and whether
// it is all ASCII; false for an escape, a control character, invalid UTF-8
// (which encoding/json would replace) or no closing quote.
func (s *flatScanner) str() (content []byte, ascii, ok bool) {
	if !s.take('"') {
		return nil, false, false
	}
	start := s.i
	ascii = true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			content = s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(content) {
				return nil, false, false
			}
			return content, ascii, true
		case c == '\\' || c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

// scalar reads a string, a number or a literal; false for an object, an
// array or invalid JSON.
func (s *flatScanner) scalar() (flatKind, bool) {
	if s.i >= len(s.b) {
		return 0, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, ok := s.str()
		return flatString, ok
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	for _, lit := range [...]string{"null", "true", "false"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			if lit == "null" {
				return flatNull, true
			}
			return flatOther, true
		}
	}
	return 0, false
}

// number reads a JSON number: flatInteger for an integer, flatOther for one
// with a fraction or an exponent.
func (s *flatScanner) number() (flatKind, bool) {
	s.take('-')
	switch {
	case s.take('0'):
	case s.i < len(s.b) && '1' <= s.b[s.i] && s.b[s.i] <= '9':
		s.digits()
	default:
		return 0, false
	}
	kind := flatInteger
	if s.take('.') {
		if s.digits() == 0 {
			return 0, false
		}
		kind = flatOther
	}
	if s.take('e') || s.take('E') {
		if !s.take('+') {
			s.take('-')
		}
		if s.digits() == 0 {
			return 0, false
		}
		kind = flatOther
	}
	return kind, true
}

// digits consumes decimal digits and returns how many.
func (s *flatScanner) digits() int {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}
