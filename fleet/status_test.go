package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/flipkyc/flipkyc"
)

// A Record prints and logs without its identity number, under every verb,
// alone or inside a Summary; json.Marshal keeps it for an export.
func TestRecordPrintsMasked(t *testing.T) {
	const identity = "3174096512880077"
	r := Record{Line: 3, IdentityNumber: identity, AgentID: 12, State: StateAttention, Attention: "ask Flip"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("agent", "record", r)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("agent", "record", r)
	printed := []string{logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		printed = append(printed, fmt.Sprintf(verb, r), fmt.Sprintf(verb, Summary{Attention: []Record{r}}))
	}
	for _, p := range printed {
		if strings.Contains(p, identity) || !strings.Contains(p, "ask Flip") {
			t.Errorf("printed %q", p)
		}
	}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), identity) {
		t.Errorf("json.Marshal = %s, %v; want the identity number kept", b, err)
	}
}

// A Row, a Repair and a DocumentFile print and log without any personal
// value (the agent's data, photo and document paths, place names, photo
// bytes), under every verb, alone or inside a slice, and in logs; what is
// not personal (the line, the agent id, the document's kind) stays. (A
// slice given to slog's JSON handler is marshalled as JSON, which keeps
// the values, as the run stores them sealed.)
func TestRowsAndRepairsPrintMasked(t *testing.T) {
	const (
		identity = "3174096512880077"
		name     = "Bambang Sutrisno"
		phone    = "081234567890"
		address  = "Jalan Merdeka 17"
		photo    = "/srv/photos/bambang-ktp.jpg"
		selfie   = "/srv/photos/bambang-selfie.jpg"
		doc      = "/srv/photos/bambang-npwp.jpg"
		city     = "Kota Depok"
	)
	bytesOfPhoto := []byte("\xff\xd8\xffBAMBANGPHOTO")
	birth := flipkyc.Date{Year: 1988, Month: time.April, Day: 12}
	row := Row{Line: 7, Params: flipkyc.AgentParams{Name: name, IdentityNumber: identity, PhoneNumber: phone, Address: address, BirthDate: birth},
		IdentityImage: photo, SelfieImage: selfie, Places: PlaceNames{City: city}}
	repair := Repair{Line: 4, IdentityNumber: identity, AgentID: 991,
		Data:          &flipkyc.RepairDataParams{Name: name, IdentityNumber: identity, PhoneNumber: phone, BirthDate: birth},
		IdentityImage: photo, SelfieImageData: bytesOfPhoto,
		Documents: []DocumentFile{{Type: flipkyc.DocumentNPWP, Path: doc}, {Type: flipkyc.DocumentNPWP, Data: bytesOfPhoto}}}
	for _, tc := range []struct {
		name  string
		value any
		keeps []string
	}{
		{"row", row, []string{"Line: 7"}},
		{"rows", []Row{row}, []string{"Line: 7"}},
		{"repair", repair, []string{"Line: 4", "AgentID: 991", "SelfieImageData: 15 bytes", "Type: " + string(flipkyc.DocumentNPWP)}},
		{"repair pointer", &repair, []string{"Line: 4"}},
		{"repairs", []Repair{repair}, []string{"AgentID: 991"}},
		{"document", repair.Documents[0], []string{"Type: " + string(flipkyc.DocumentNPWP)}},
	} {
		var printed []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			printed = append(printed, fmt.Sprintf(verb, tc.value))
		}
		if _, ok := tc.value.(slog.LogValuer); ok {
			var logs bytes.Buffer
			// Without the time, whose digits may hold "1988".
			noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			}}
			slog.New(slog.NewJSONHandler(&logs, noTime)).Info("x", "v", tc.value)
			slog.New(slog.NewTextHandler(&logs, noTime)).Info("x", "v", tc.value)
			printed = append(printed, logs.String())
		}
		for _, p := range printed {
			for _, secret := range []string{identity, name, "Bambang", phone, address, "bambang", city, "1988", "BAMBANGPHOTO"} {
				if strings.Contains(p, secret) {
					t.Errorf("%s: %q printed in %q", tc.name, secret, p)
				}
			}
		}
		for _, keep := range tc.keeps {
			if !strings.Contains(printed[0], keep) {
				t.Errorf("%s: %q missing from %q", tc.name, keep, printed[0])
			}
		}
	}
}
