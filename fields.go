package flipkyc

// identityField describes one field of an agent's identity data once: its
// wire name, whether each call takes it, its documented rule, and its value
// in each API family's wire form. Validation and encoding of AgentParams
// (create, update) and RepairDataParams (repair) both read this table.
type identityField struct {
	wire string
	// onAgent: required by create and update (the v2 agents API); false
	// for the optional fields.
	onAgent bool
	// onRepair: sent by repair data (the KYC service), where every field
	// is optional.
	onRepair bool
	// check records the rule the field breaks, if any.
	check func(v *fieldErrors, p *AgentParams, required bool)
	// text returns the field's wire value for api, "" when unset; nil for
	// ids.
	text func(p *AgentParams, api apiFamily) string
	// id returns an id field's value, 0 when unset; nil for text fields.
	id func(p *AgentParams) int64
}

// textField returns the description of a free-text field of at most max
// characters.
func textField(wire string, onAgent bool, max int, get func(*AgentParams) string) identityField {
	return identityField{wire: wire, onAgent: onAgent, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) { v.text(wire, get(p), required, max) },
		text:  func(p *AgentParams, _ apiFamily) string { return get(p) }}
}

// idField returns the description of a location id field.
func idField(wire string, onAgent bool, get func(*AgentParams) int64) identityField {
	return identityField{wire: wire, onAgent: onAgent, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) { v.id(wire, get(p), required) },
		id:    get}
}

// addressField returns the description of an address field.
func addressField(wire string, onAgent bool, get func(*AgentParams) string) identityField {
	return identityField{wire: wire, onAgent: onAgent, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) { v.address(wire, get(p), required) },
		text:  func(p *AgentParams, _ apiFamily) string { return get(p) }}
}

// identityFields lists every field of an agent's identity data, in the order
// they are checked and sent. The rules are Flip's documented ones
// (../shared/flip-kyc-api.md §4.1, §4.7).
var identityFields = []identityField{
	textField("name", true, 50, func(p *AgentParams) string { return p.Name }),
	{wire: "identity_type", onAgent: true, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) { v.identityType(p.IdentityType, required) },
		text: func(p *AgentParams, api apiFamily) string {
			if api == kycAPI && p.IdentityType != "" {
				return p.IdentityType.kycCode()
			}
			return string(p.IdentityType)
		}},
	{wire: "identity_number", onAgent: true, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) {
			v.text("identity_number", p.IdentityNumber, required, p.IdentityType.maxNumberLen())
		},
		text: func(p *AgentParams, _ apiFamily) string { return p.IdentityNumber }},
	{wire: "birth_date", onAgent: true, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) { v.date("birth_date", p.BirthDate, required) },
		text:  func(p *AgentParams, _ apiFamily) string { return p.BirthDate.String() }},
	textField("birth_place", true, 255, func(p *AgentParams) string { return p.BirthPlace }),
	idField("country_id", true, func(p *AgentParams) int64 { return p.CountryID }),
	idField("province_id", true, func(p *AgentParams) int64 { return p.ProvinceID }),
	idField("city_id", true, func(p *AgentParams) int64 { return p.CityID }),
	idField("district_id", true, func(p *AgentParams) int64 { return p.DistrictID }),
	addressField("address", true, func(p *AgentParams) string { return p.Address }),
	{wire: "gender", onAgent: true, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) { v.gender(p.Gender, required) },
		text: func(p *AgentParams, api apiFamily) string {
			if api == kycAPI && p.Gender != "" {
				return p.Gender.kycCode()
			}
			return string(p.Gender)
		}},
	{wire: "occupation", onAgent: true, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) { v.occupation(p.Occupation, required) },
		text:  func(p *AgentParams, _ apiFamily) string { return string(p.Occupation) }},
	{wire: "phone_number", onAgent: true, onRepair: true,
		check: func(v *fieldErrors, p *AgentParams, required bool) { v.phone("phone_number", p.PhoneNumber, required) },
		text:  func(p *AgentParams, _ apiFamily) string { return p.PhoneNumber }},
	{wire: "use_identity_address", onRepair: true,
		check: func(*fieldErrors, *AgentParams, bool) {},
		text: func(p *AgentParams, _ apiFamily) string {
			if p.UseIdentityAddress == nil {
				return ""
			}
			return boolDigit(*p.UseIdentityAddress)
		}},
	idField("residence_country_id", false, func(p *AgentParams) int64 { return p.ResidenceCountryID }),
	idField("residence_province_id", false, func(p *AgentParams) int64 { return p.ResidenceProvinceID }),
	idField("residence_city_id", false, func(p *AgentParams) int64 { return p.ResidenceCityID }),
	idField("residence_district_id", false, func(p *AgentParams) int64 { return p.ResidenceDistrictID }),
	addressField("residence_address", false, func(p *AgentParams) string { return p.ResidenceAddress }),
	{wire: "email",
		check: func(v *fieldErrors, p *AgentParams, _ bool) { v.email("email", p.Email) },
		text:  func(p *AgentParams, _ apiFamily) string { return p.Email }},
}

// checkIdentity records every rule p breaks: for create and update
// (repair false) every field, the required ones required; for repair data
// the repair's fields, all optional.
func checkIdentity(v *fieldErrors, p *AgentParams, repair bool) {
	for i := range identityFields {
		f := &identityFields[i]
		if repair && !f.onRepair {
			continue
		}
		f.check(v, p, f.onAgent && !repair)
	}
}

// encodeIdentity writes p's set fields, in api's wire form, to e: for
// create and update every field, for repair data the repair's fields.
func encodeIdentity(e *formEncoder, p *AgentParams, api apiFamily, repair bool) {
	for i := range identityFields {
		f := &identityFields[i]
		switch {
		case repair && !f.onRepair:
		case f.id != nil:
			e.addID(f.wire, f.id(p))
		default:
			if s := f.text(p, api); s != "" {
				e.add(f.wire, s)
			}
		}
	}
}
