package katsu

// validator collects the inputs that break a rule, for one call.
type validator struct {
	fields []FieldError
}

// add records that field breaks rule when bad.
func (v *validator) add(bad bool, field, rule string) {
	if bad {
		v.fields = append(v.fields, FieldError{Field: field, Rule: rule})
	}
}

// uuid checks that s is a UUID in the 8-4-4-4-12 hex form, not the nil
// UUID; required says whether it may be empty.
func (v *validator) uuid(s, field string, required bool) {
	switch {
	case s == "":
		v.add(required, field, "required, a UUID")
	case !isUUID(s):
		v.add(true, field, "must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6")
	case s == "00000000-0000-0000-0000-000000000000":
		v.add(true, field, "must not be the nil UUID")
	}
}

// err returns a *ValidationError for op when an input broke a rule.
func (v *validator) err(op string) error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Op: op, Fields: v.fields}
}

// isUUID reports whether s is a UUID written 8-4-4-4-12 in hex digits of
// either case.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isBVN reports whether s is a Bank Verification Number: exactly 11 ASCII
// digits.
func isBVN(s string) bool {
	if len(s) != 11 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
