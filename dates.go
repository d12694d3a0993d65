package flipkyc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/flipkyc/flipkyc/internal/redact"
)

// Date is a calendar date such as a birth date. Flip's requests and v2
// responses write it DD-MM-YYYY; the KYC service answers in RFC 3339
// ("1990-10-31T00:00:00Z") or in a hybrid ("31-10-1990T00:00:00Z"). All of
// these decode. Text that fits none of them is kept in Raw instead of failing
// the whole response.
//
// Two Dates of the same day are equal with ==, whether decoded or built with
// NewDate, DateOf or ParseDate.
type Date struct {
	// Year is the year, such as 1990; Year, Month and Day are all zero when
	// the text Flip sent could not be read.
	Year int
	// Month is the month of the year.
	Month time.Month
	// Day is the day of the month, from 1.
	Day int
	// Raw holds the text Flip sent when it fits no known date form, so that
	// it stays visible; it is empty for every date that was read.
	Raw string
}

// NewDate returns the date year-month-day, as given: unlike time.Date it
// does not normalize an impossible day such as February 30 (Valid reports
// it).
func NewDate(year int, month time.Month, day int) Date {
	return Date{Year: year, Month: month, Day: day}
}

// DateOf returns the calendar day of t, in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a date written DD-MM-YYYY, Flip's request form, or
// YYYY-MM-DD (ISO 8601). It must be a real calendar day; any other text is
// an error.
func ParseDate(s string) (Date, error) {
	for _, layout := range [2]string{"02-01-2006", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return DateOf(t), nil
		}
	}
	return Date{}, fmt.Errorf("flipkyc: date must be DD-MM-YYYY or YYYY-MM-DD, a real day")
}

// IsZero reports whether d holds no date (it may still hold Raw text).
func (d Date) IsZero() bool { return d.Year == 0 && d.Month == 0 && d.Day == 0 }

// Valid reports whether d is a real calendar day.
func (d Date) Valid() bool {
	if d.IsZero() || d.Year < 1 || d.Year > 9999 {
		return false
	}
	t := d.Time()
	return t.Year() == d.Year && t.Month() == d.Month && t.Day() == d.Day
}

// Time returns midnight UTC of d (normalized by time.Date when d is not
// Valid).
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String returns d as DD-MM-YYYY, Flip's request form; a date that could not
// be parsed returns its Raw text.
func (d Date) String() string {
	if d.IsZero() {
		return d.Raw
	}
	if d.Year < 0 || d.Year > 9999 {
		return fmt.Sprintf("%02d-%02d-%04d", d.Day, int(d.Month), d.Year)
	}
	b := make([]byte, 0, 10)
	b = appendTwo(b, d.Day)
	b = append(b, '-')
	b = appendTwo(b, int(d.Month))
	b = append(b, '-')
	b = appendTwo(b, d.Year/100)
	b = appendTwo(b, d.Year%100)
	return string(b)
}

// appendTwo appends n (0 to 99) as two digits.
func appendTwo(b []byte, n int) []byte {
	if n < 0 || n > 99 {
		return strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// MarshalJSON writes d as "DD-MM-YYYY", a date that could not be parsed as
// its Raw text, and a date that holds nothing as null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() && d.Raw == "" {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

var dateLayouts = []string{"02-01-2006", time.RFC3339Nano, "2006-01-02", "02-01-2006T15:04:05Z07:00"}

// UnmarshalJSON decodes every date form Flip sends; unparseable text is kept
// in Raw, and null or "" give the zero Date. A value that is neither a
// string nor a number is an error.
func (d *Date) UnmarshalJSON(b []byte) error {
	s, err := decodeEnumText(b)
	if err != nil {
		return fmt.Errorf("date: %w", err)
	}
	*d = dateFromText(s)
	return nil
}

// dateFromText reads any of Flip's date forms; text that fits none is kept
// in Raw only.
func dateFromText(s string) Date {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return DateOf(t)
		}
	}
	return Date{Raw: s}
}

// jakarta is the zone assumed for Flip's zone-less timestamps: Flip operates
// in Western Indonesian Time, UTC+7, which has no daylight saving.
var jakarta = time.FixedZone("WIB", 7*60*60)

// Timestamp is a point in time sent by Flip. Flip uses several layouts:
// "2006-01-02 15:04:05" without a zone (callbacks, get agent), RFC 3339 with
// an offset, and RFC 3339 with nanoseconds; "2006-01-02T15:04:05" and a bare
// "2006-01-02" are read too. Zone-less values are read as
// Western Indonesian Time (UTC+7), Flip's local time; Flip does not document
// the zone. Null gives the zero Timestamp; text that fits no layout is kept in
// Raw with a zero Time.
type Timestamp struct {
	time.Time
	// Raw is the text as received, without surrounding spaces; empty for a
	// Timestamp built from a time.Time alone.
	Raw string
}

// flipLocalLayout is the zone-less layout of callbacks and get agent.
const flipLocalLayout = "2006-01-02 15:04:05"

var timestampLayouts = []string{time.RFC3339Nano, flipLocalLayout, "2006-01-02T15:04:05", "2006-01-02"}

// ParseTimestamp parses s, without surrounding spaces, in any layout Flip
// uses (see Timestamp), and keeps s in Raw. When none fits it returns an
// error and a Timestamp holding only Raw.
func ParseTimestamp(s string) (Timestamp, error) {
	s = strings.TrimSpace(s)
	if len(s) == len(flipLocalLayout) && s[10] == ' ' {
		// Flip's most common layout, tried first to spare failed parses.
		if t, err := time.ParseInLocation(flipLocalLayout, s, jakarta); err == nil {
			return Timestamp{Time: t, Raw: s}, nil
		}
	}
	for _, layout := range timestampLayouts {
		if t, err := time.ParseInLocation(layout, s, jakarta); err == nil {
			return Timestamp{Time: t, Raw: s}, nil
		}
	}
	return Timestamp{Raw: s}, fmt.Errorf("flipkyc: unknown timestamp layout %q", redact.Excerpt([]byte(s), 40))
}

// MarshalText writes the timestamp as MarshalJSON does, without quotes:
// as Flip sent it, or in Flip's zone-less layout; empty when zero. It keeps
// the text and JSON forms of a Timestamp in agreement.
func (t Timestamp) MarshalText() ([]byte, error) {
	switch {
	case t.Raw != "":
		return []byte(t.Raw), nil
	case t.Time.IsZero():
		return nil, nil
	}
	return []byte(t.Time.In(jakarta).Format(flipLocalLayout)), nil
}

// UnmarshalText reads any of Flip's layouts, as UnmarshalJSON does: empty
// text gives the zero Timestamp, and text in no layout is kept in Raw with a
// zero Time. It never fails.
func (t *Timestamp) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = Timestamp{}
		return nil
	}
	*t, _ = ParseTimestamp(string(b)) // unknown layouts stay visible in Raw
	return nil
}

// MarshalJSON writes the timestamp as Flip sent it (its Raw text), or, for
// a Timestamp built from a time.Time alone, in Flip's zone-less layout in
// Western Indonesian Time; null when it holds neither.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	switch {
	case t.Raw != "":
		return json.Marshal(t.Raw)
	case t.Time.IsZero():
		return []byte("null"), nil
	}
	return json.Marshal(t.Time.In(jakarta).Format(flipLocalLayout))
}

// UnmarshalJSON decodes any of Flip's layouts; see Timestamp. Null and ""
// give the zero Timestamp, and text in no layout is kept in Raw; only a
// value that is neither a string nor a number is an error.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s, err := decodeEnumText(b)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if s == "" {
		*t = Timestamp{}
		return nil
	}
	*t, _ = ParseTimestamp(s) // unknown layouts stay visible in Raw
	return nil
}

// flexInt decodes an integer sent as a number, a numeric string, null or "".
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	if v, ok := smallDigits(b); ok {
		*n = flexInt(v) // the usual id, as parseInteger reads it, without a copy
		return nil
	}
	text, err := decodeEnumText(b)
	if err != nil {
		return err
	}
	if text == "" {
		*n = 0
		return nil
	}
	v, err := parseInteger(text)
	if err != nil {
		return err
	}
	*n = flexInt(v)
	return nil
}

// smallDigits reads b when it is 1 to 18 decimal digits, which always fit
// an int64.
func smallDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// errNotInteger reports a value that is not a whole number. It never quotes
// the value, which may be personal data in the wrong field.
var errNotInteger = errors.New("want an integer")

// parseInteger reads a whole number written as an integer or as a number
// with no fraction ("17", "17.0", "1.7e1"), as JSON encoders in other
// languages may write integers.
func parseInteger(text string) (int64, error) {
	if v, ok := parseWhole(text); ok {
		return v, nil
	}
	return 0, errNotInteger
}

// maxWholeExponent bounds the exponents parseWhole reads; larger ones are
// out of range for any non-zero int64.
const maxWholeExponent = 10000

// parseWhole reads s, a decimal number, when it denotes a whole number in
// the int64 range: "17", "+17", "17.0", "17.000", "1.7e1", "170e-1", "-3".
// It is exact: "1.5" and "9223372036854775808" are not whole int64s.
func parseWhole(s string) (int64, bool) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	digits := func() string {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return s[start:i]
	}
	intPart, frac := digits(), ""
	if i < len(s) && s[i] == '.' {
		i++
		frac = digits()
	}
	if intPart == "" && frac == "" {
		return 0, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			expNeg = s[i] == '-'
			i++
		}
		e := digits()
		if e == "" {
			return 0, false
		}
		if e = strings.TrimLeft(e, "0"); len(e) > 5 {
			e = "99999" // beyond maxWholeExponent either way
		}
		if e != "" {
			exp, _ = strconv.Atoi(e)
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0, false
	}
	mant := strings.TrimLeft(intPart+frac, "0")
	if mant == "" {
		return 0, true // zero, in any form
	}
	exp -= len(frac)
	trimmed := strings.TrimRight(mant, "0")
	exp += len(mant) - len(trimmed)
	mant = trimmed
	if exp < 0 || exp > maxWholeExponent || len(mant)+exp > 19 {
		return 0, false // a fraction, or beyond int64
	}
	u, err := strconv.ParseUint(mant+strings.Repeat("0", exp), 10, 64)
	switch {
	case err != nil:
		return 0, false
	case neg && u <= 1<<63:
		return int64(-u), true // -(1<<63) wraps to math.MinInt64
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}
