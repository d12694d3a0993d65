package flipkyc

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// lenientReply is implemented by reply types that must survive a field of an
// unexpected type: an agent Flip has just created is not to be lost because
// its country_id came as a string.
type lenientReply interface{ lenient() }

// decodeLenient decodes the JSON object raw into the struct dst points to,
// field by field. A value of an unexpected type is converted where the
// meaning is plain (a number for a string, a numeric string or a whole float
// for an integer, "1"/"0"/"true" for a bool) and otherwise left zero. Only a
// body that is not a JSON object is an error. It is the slow path, taken when
// the one-pass decoding failed on a type.
func decodeLenient(raw []byte, dst any) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	v := reflect.ValueOf(dst).Elem()
	v.SetZero()
	index := jsonFieldIndex(v.Type())
	for name, value := range fields {
		path, ok := index[name]
		if !ok {
			continue
		}
		f := v.FieldByIndex(path)
		if json.Unmarshal(value, f.Addr().Interface()) == nil {
			continue
		}
		f.SetZero()
		convertLoosely(value, f)
	}
	return nil
}

// convertLoosely sets f from a JSON value of another type than f's, where
// the meaning is plain; otherwise f stays zero.
func convertLoosely(value json.RawMessage, f reflect.Value) {
	text, err := decodeEnumText(value)
	if err != nil || text == "" {
		return
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(text)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, err := parseInteger(text); err == nil && !f.OverflowInt(n) {
			f.SetInt(n)
		}
	case reflect.Bool:
		if b, err := strconv.ParseBool(strings.ToLower(text)); err == nil {
			f.SetBool(b)
		}
	}
}

var jsonIndexes sync.Map // reflect.Type → map[string][]int

// jsonFieldIndex maps the JSON names of t's fields, embedded ones included,
// to their index paths. Where an outer field shadows an embedded one of the
// same name, the outer one wins, as in encoding/json.
func jsonFieldIndex(t reflect.Type) map[string][]int {
	if m, ok := jsonIndexes.Load(t); ok {
		return m.(map[string][]int)
	}
	m := map[string][]int{}
	for _, sf := range reflect.VisibleFields(t) {
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if old, ok := m[name]; !ok || len(sf.Index) < len(old) {
			m[name] = sf.Index
		}
	}
	jsonIndexes.Store(t, m)
	return m
}

// fastDecoder is implemented by reply types with a one-pass decoder for
// their usual form, whose results are decodeGeneral's. decodeFast reports
// false, leaving the reply zero, for any other form.
type fastDecoder interface{ decodeFast(raw []byte) bool }

// decodeReply decodes a 2xx reply into out: by out's fast decoder when it
// has one and the reply is of the usual form, else by decodeGeneral.
func decodeReply(raw []byte, out any) error {
	if f, ok := out.(fastDecoder); ok && f.decodeFast(raw) {
		return nil
	}
	return decodeGeneral(raw, out)
}

// decodeGeneral decodes a 2xx reply into out with encoding/json. For
// lenient reply types, a value of an unexpected form (rather than malformed
// JSON) makes it decode again field by field.
func decodeGeneral(raw []byte, out any) error {
	err := json.Unmarshal(raw, out)
	var syntaxErr *json.SyntaxError
	if _, ok := out.(lenientReply); ok && err != nil && !errors.As(err, &syntaxErr) {
		return decodeLenient(raw, out)
	}
	return err
}
