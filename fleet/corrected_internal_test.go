package fleet

import (
	"context"
	"encoding/json"
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

// A worker whose lease was handed over changes nothing of an agent whose
// correction it finds took effect: the correction stays for the job that
// holds the agent now, which makes its corrected data the agent's row.
func TestStaleRepairLeavesTheCorrection(t *testing.T) {
	ctx := context.Background()
	f, _, a := newRaceRun(t, nil)
	if err := f.onboard(inJob(ctx), a); err != nil { // Flip has the agent and both photos: a correction's read finds it past REJECTED
		t.Fatal(err)
	}
	const fixedName = "Agent Corrected Racer"
	b, err := json.Marshal(Repair{Line: 2, Data: &flipkyc.RepairDataParams{Name: fixedName}})
	if err != nil {
		t.Fatal(err)
	}
	sealed := f.db.key.seal(a.Key, b)
	if _, err := f.db.sql.Exec("UPDATE fleet_agents SET state = ?, step_request_id = ?, repair = ?, lease_job = 2, lease_attempt = 1 WHERE key = ?",
		StateRepairing, newRequestID(), sealed, a.Key); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		held lease
	}{{"the worker whose lease was handed over", lease{1, 1}}, {"the job holding the agent", lease{2, 1}}} {
		now, err := f.load(ctx, f.db.sql, a.Key)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.repair(context.WithValue(inJob(ctx), leaseKey{}, tc.held), now); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.held.job == 1 {
			var repair string
			if err := f.db.sql.QueryRow("SELECT repair FROM fleet_agents WHERE key = ?", a.Key).Scan(&repair); err != nil || repair != sealed {
				t.Errorf("%s changed the stored correction (%d bytes now, %v)", tc.name, len(repair), err)
			}
		}
	}
	now, err := f.load(ctx, f.db.sql, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if now.Row.Params.Name != fixedName {
		t.Errorf("the agent's row after the correction took effect has not the corrected name")
	}
}

// Corrected data sent for an agent parked at its uploads (UpdateAgent)
// carries every field the correction gives, as a correction sent after a
// rejection does (applyCorrection): the data Flip gets and the row the run
// keeps are the corrected ones.
func TestUpdateDataCarriesEveryField(t *testing.T) {
	ctx := context.Background()
	f, fake, a := newRaceRun(t, nil)
	if err := f.create(ctx, a); err != nil {
		t.Fatal(err)
	}
	now, err := f.load(ctx, f.db.sql, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	const residence = "Jalan Baru Nomor 5"
	fix := Repair{Line: 2, Data: &flipkyc.RepairDataParams{UseIdentityAddress: flipkyc.Ptr(false), ResidenceAddress: residence,
		ResidenceCountryID: 1, ResidenceProvinceID: 12, ResidenceCityID: 184, ResidenceDistrictID: 1234}}
	if taken, err := f.updateData(ctx, now, fix); err != nil || !taken {
		t.Fatalf("updateData: %v, %v", taken, err)
	}
	got, _ := fake.Agent(now.AgentID.Int64)
	if got.ResidenceAddress != residence {
		t.Errorf("Flip has the residence address as created, not the corrected one")
	}
	stored, err := f.load(ctx, f.db.sql, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if p := stored.Row.Params; p.ResidenceAddress != residence || p.ResidenceDistrictID != 1234 || p.UseIdentityAddress == nil || *p.UseIdentityAddress {
		t.Errorf("the stored row keeps the residence as imported, not the corrected one")
	}
}
