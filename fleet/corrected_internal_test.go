package fleet

import (
	"reflect"
	"testing"

	"github.com/flipkyc/flipkyc"
)

// applyCorrection carries each field a correction gives into the agent's
// parameters of the same name, one field at a time, and leaves the others
// as they were; every field of a correction has its field in an agent's.
func TestApplyCorrectionEachField(t *testing.T) {
	yes := true
	before := flipkyc.AgentParams{Name: "Old Name", IdentityNumber: "3201000000000001", PhoneNumber: "0811000000", Email: "old@example.com"}
	values := map[reflect.Kind]any{reflect.String: "x-corrected", reflect.Int64: int64(99)}
	dt := reflect.TypeOf(flipkyc.RepairDataParams{})
	for i := range dt.NumField() {
		name := dt.Field(i).Name
		t.Run(name, func(t *testing.T) {
			var d flipkyc.RepairDataParams
			field := reflect.ValueOf(&d).Elem().Field(i)
			switch {
			case field.Type() == reflect.TypeOf(flipkyc.Date{}):
				field.Set(reflect.ValueOf(flipkyc.Date{Year: 1990, Month: 5, Day: 17}))
			case field.Type() == reflect.TypeOf(&yes):
				field.Set(reflect.ValueOf(&yes))
			default:
				v, ok := values[field.Kind()]
				if !ok {
					t.Fatalf("no test value for %s (%s)", name, field.Type())
				}
				field.Set(reflect.ValueOf(v).Convert(field.Type()))
			}
			p := before
			applyCorrection(&p, d)
			target := reflect.ValueOf(p).FieldByName(name)
			if !target.IsValid() {
				t.Fatalf("an agent has no field %s", name)
			}
			if !reflect.DeepEqual(target.Interface(), field.Interface()) {
				t.Errorf("%s = %v, want the correction's %v", name, target.Interface(), field.Interface())
			}
			// Every other field is as it was.
			reflect.ValueOf(&p).Elem().FieldByName(name).Set(reflect.ValueOf(before).FieldByName(name))
			if p != before {
				t.Errorf("other fields changed: %v", p)
			}
		})
	}
}
