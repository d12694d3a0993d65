package main

import (
	"encoding/csv"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// placedAgent is a row of a CSV that may name its locations: loc holds the
// country_id, province, province_id, city, city_id, district and
// district_id columns, by name; an absent key is an empty cell.
type placedAgent struct {
	fleetAgent
	loc   map[string]string
	phone string // the phone's last six digits, when not the identity's
}

var placeColumns = []string{"country_id", "province", "province_id", "city", "city_id", "district", "district_id"}

// writePlacedRun writes a run's CSV whose locations are given by name or
// id, with its images, in a new directory, and returns the CSV's path.
// Lines are numbered from 2 in the order of agents.
func writePlacedRun(t *testing.T, agents []placedAgent) string {
	t.Helper()
	path := writeFleetRun(t, nil)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	require.NoError(t, err)
	w := csv.NewWriter(f)
	head := []string{"name", "identity_type", "identity_number", "birth_date", "birth_place", "gender", "occupation"}
	head = append(append(head, placeColumns...), "address", "phone_number", "identity_image", "selfie_image")
	require.NoError(t, w.Write(head))
	for _, a := range agents {
		rec := []string{fleetName(a.suffix), "ktp", a.identity(), "31-10-1990", "Kota Testdata", "female", "private_employee"}
		for _, c := range placeColumns {
			rec = append(rec, a.loc[c])
		}
		phone := a.phone
		if phone == "" {
			phone = a.suffix
		}
		image := a.image
		if image == "" {
			image = "ktp.png"
		}
		rec = append(rec, "Jalan Testdata Raya "+a.suffix, testPhone+phone, image, "selfie.png")
		require.NoError(t, w.Write(rec))
	}
	w.Flush()
	require.NoError(t, w.Error())
	require.NoError(t, f.Close())
	return path
}

func fleetAgents(agents []placedAgent) []fleetAgent {
	out := make([]fleetAgent, len(agents))
	for i, a := range agents {
		out[i] = a.fleetAgent
	}
	return out
}

// locationRequests counts the fake's location look-ups, by route.
func locationRequests(srv *flipkyctest.Server) map[flipkyctest.Route]int {
	out := map[flipkyctest.Route]int{}
	for _, r := range []flipkyctest.Route{flipkyctest.RouteCountries, flipkyctest.RouteProvinces, flipkyctest.RouteCities, flipkyctest.RouteDistricts} {
		out[r] = len(srv.RequestsTo(r))
	}
	return out
}

// onlyLookUps checks that the fake received nothing but location look-ups.
func onlyLookUps(t *testing.T, srv *flipkyctest.Server) {
	t.Helper()
	for _, r := range srv.Requests() {
		assert.Contains(t, []flipkyctest.Route{flipkyctest.RouteCountries, flipkyctest.RouteProvinces, flipkyctest.RouteCities, flipkyctest.RouteDistricts}, r.Route)
	}
}

// Locations by name, as on the identity card: resolved through Flip's
// lists (any case, any spacing, with or without "Provinsi", "Kota",
// "Kecamatan"), mixed with ids, the country Indonesia by default; unknown
// names and ids not in their parent's list are bad rows with the closest
// names; each list is asked of Flip once per parent and kept in the run,
// and asked again once when a row misses in it.
func TestOnboardLocationNames(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	agents := []placedAgent{
		{fleetAgent: fleetAgent{suffix: "710001"}, loc: map[string]string{"province": "Jawa Barat", "city": "Kota Depok", "district": "Sukmajaya"}},
		{fleetAgent: fleetAgent{suffix: "710002"}, loc: map[string]string{"province": "  jawa   BARAT ", "city": "KOTA DEPOK", "district": "beji"}},
		{fleetAgent: fleetAgent{suffix: "710003"}, loc: map[string]string{"country_id": "1", "province": "PROVINSI JAWA BARAT", "city": "Depok", "district": "Kecamatan Sukmajaya"}},
		{fleetAgent: fleetAgent{suffix: "710004"}, loc: map[string]string{"province": "Jawa Barat", "city": "Kota Depk", "district": "Sukmajaya"}},
		{fleetAgent: fleetAgent{suffix: "710005"}, loc: map[string]string{"province": "Jawa Barat", "city": "Kota Depok", "district": "Menteng"}},
		{fleetAgent: fleetAgent{suffix: "710006"}, loc: map[string]string{"province_id": "12", "city": "kota bandung", "district_id": "1250"}},
		{fleetAgent: fleetAgent{suffix: "710007"}, loc: map[string]string{"province": "Jawa Barat", "city_id": "150", "district_id": "1500"}},
		{fleetAgent: fleetAgent{suffix: "710008"}, loc: map[string]string{"province": "Jawa Barat", "province_id": "12", "city_id": "184", "district_id": "1234"}},
	}
	csvPath := writePlacedRun(t, agents)
	args := append([]string{"onboard", "--csv", csvPath}, fast...)
	r := fleetCLI(t, vars, fleetAgents(agents), args...)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	bad := []string{
		`line 5: city: no city of province 12 of that name; closest in Flip's list: "Kota Depok" (184), "Kabupaten Bandung" (186), "Kota Bandung" (185)` + "\n",
		`line 6: district: no district of city 184 of that name; closest in Flip's list: "Beji" (1235), "Sukmajaya" (1234)` + "\n",
		`line 8: city_id: not the id of one of Flip's cities of province 12 (see 'flipkyc locations cities')` + "\n",
		"line 9: province: give province_id or province, not both\n",
	}
	for _, want := range bad {
		assert.Contains(t, r.stderr, want)
	}
	assert.Less(t, strings.Index(r.stderr, bad[0]), strings.Index(r.stderr, bad[3]), "bad rows in line order")
	assert.Contains(t, r.stderr, "flipkyc onboard: 8 rows: 4 new, 0 resumed, 4 bad")

	type place struct{ country, province, city, district int64 }
	want := map[string]place{
		agents[0].identity(): {1, 12, 184, 1234},
		agents[1].identity(): {1, 12, 184, 1235},
		agents[2].identity(): {1, 12, 184, 1234},
		agents[5].identity(): {1, 12, 185, 1250},
	}
	got := map[string]place{}
	for _, a := range srv.Agents() {
		got[a.IdentityNumber] = place{a.CountryID, a.ProvinceID, a.CityID, a.DistrictID}
	}
	assert.Equal(t, want, got, "the good rows created with the ids of their names, the bad ones not at all")

	// One look-up per parent: the countries, Indonesia's provinces, Jawa
	// Barat's cities, and the districts of Kota Depok and Kota Bandung;
	// and once more each list a row missed in (Jawa Barat's cities, for
	// lines 5 and 8; Kota Depok's districts, for line 6), in case Flip
	// added the place since.
	looked := map[flipkyctest.Route]int{flipkyctest.RouteCountries: 1, flipkyctest.RouteProvinces: 1, flipkyctest.RouteCities: 2, flipkyctest.RouteDistricts: 3}
	assert.Equal(t, looked, locationRequests(srv))

	// Resumed: the names resolve from the run's cache; only the lists the
	// bad rows miss in are asked again, once each.
	r = fleetCLI(t, vars, fleetAgents(agents), args...)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "flipkyc onboard: 8 rows: 0 new, 4 resumed, 4 bad")
	assert.Contains(t, r.stderr, bad[0])
	looked[flipkyctest.RouteCities]++
	looked[flipkyctest.RouteDistricts]++
	assert.Equal(t, looked, locationRequests(srv), "the lists come from the run, but for those missed in")
	assert.Len(t, srv.Agents(), 4)
}

// A name that fits several of Flip's places ("Bandung": Kota Bandung and
// Kabupaten Bandung) is a bad row naming them; the full name is not.
// --check creates nothing; onboard creates the good row only.
func TestOnboardAmbiguousLocation(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t) // the fake's Jawa Barat has both, as Flip's does
	agents := []placedAgent{
		{fleetAgent: fleetAgent{suffix: "720001"}, loc: map[string]string{"province": "Jawa Barat", "city": "Bandung", "district": "Coblong"}},
		{fleetAgent: fleetAgent{suffix: "720002"}, loc: map[string]string{"province": "Jawa Barat", "city": "Kab. Bandung", "district": "Cileunyi"}},
	}
	csvPath := writePlacedRun(t, agents)
	for _, check := range []bool{true, false} {
		args := append([]string{"onboard", "--csv", csvPath}, fast...)
		if check {
			args = append(args, "--check")
		}
		r := fleetCLI(t, vars, fleetAgents(agents), args...)
		assert.Equal(t, exitFailure, r.code, r.stderr)
		out := r.stderr // onboard's bad rows; --check's findings are its output
		if check {
			out = r.stdout
		}
		assert.Contains(t, out, `line 2: city: matches 2 of Flip's cities of province 12: "Kota Bandung" (185), "Kabupaten Bandung" (186); give the full name, or city_id`+"\n", "--check %v", check)
		assert.NotContains(t, out, "line 3", "--check %v", check)
		if check {
			assert.Empty(t, srv.Agents(), "--check creates nothing")
			onlyLookUps(t, srv)
		}
	}
	got := srv.Agents()
	require.Len(t, got, 1)
	assert.Equal(t, agents[1].identity(), got[0].IdentityNumber)
	assert.Equal(t, []int64{186, 1270}, []int64{got[0].CityID, got[0].DistrictID})
}

// onboard --check: every problem of the CSV by line, field and rule, on
// stdout, duplicates within it, the rows the run has already noted (not
// problems), nothing sent but location look-ups, and no run created where
// there was none.
func TestOnboardCheck(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	named := map[string]string{"province": "Jawa Barat", "city": "Kota Depok", "district": "Sukmajaya"}
	agents := []placedAgent{
		{fleetAgent: fleetAgent{suffix: "730001"}, loc: named},
		{fleetAgent: fleetAgent{suffix: "730002"}, loc: named},
		{fleetAgent: fleetAgent{suffix: "730001"}, loc: named, phone: "730009"},                                                                                          // line 4: identity of line 2
		{fleetAgent: fleetAgent{suffix: "730004"}, loc: named, phone: "730002"},                                                                                          // line 5: phone of line 3
		{fleetAgent: fleetAgent{suffix: "730005"}, loc: map[string]string{"province": "Jawa Timur", "city": "Kota Depok", "district": "Sukmajaya"}},                      // line 6: no such province
		{fleetAgent: fleetAgent{suffix: "730006", image: "broken.png"}, loc: named},                                                                                      // line 7: not an image
		{fleetAgent: fleetAgent{suffix: "730008", image: "broken.png"}, loc: map[string]string{"province": "Jawa Timur", "city": "Kota Depok", "district": "Sukmajaya"}}, // line 8: both
	}
	csvPath := writePlacedRun(t, agents)
	db := defaultDB(csvPath)
	r := fleetCLI(t, vars, fleetAgents(agents), "onboard", "--check", "--csv", csvPath)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	for _, want := range []string{
		"line 4: identity_number: the same as line 2's: one agent per identity number\n",
		"line 5: phone_number: the same as line 3's: Flip registers a phone number once\n",
		`line 6: province: no province of country 1 of that name; closest in Flip's list: "Jawa Barat" (12), "Aceh" (1), "DKI Jakarta" (6)` + "\n",
		"line 7: identity_image: Flip's image rules: must be a PNG or JPEG image\n",
		// A row's every problem at once: its locations are checked too.
		"line 8: identity_image: Flip's image rules: must be a PNG or JPEG image\n",
		`line 8: province: no province of country 1 of that name; closest in Flip's list: "Jawa Barat" (12), "Aceh" (1), "DKI Jakarta" (6)` + "\n",
		"flipkyc onboard --check: 7 rows: 2 new, 0 in the run (onboard resumes them), 5 bad; no run at " + db + " (none created): not checked against a run; nothing sent to Flip but location look-ups\n",
	} {
		assert.Contains(t, r.stdout, want)
	}
	assert.NoFileExists(t, db, "no run created")
	assert.Empty(t, srv.Agents())
	onlyLookUps(t, srv)

	// The good rows alone: clean, exit 0, still no run.
	clean := writePlacedRun(t, agents[:2])
	r = fleetCLI(t, vars, fleetAgents(agents), "onboard", "--check", "--csv", clean)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "flipkyc onboard --check: 2 rows: 2 new, 0 in the run (onboard resumes them), 0 bad; no run at "+defaultDB(clean)+" (none created)")
	assert.NoFileExists(t, defaultDB(clean))
	onlyLookUps(t, srv)

	// Against a run: onboard the first agent, then check a CSV of both in
	// that run; the agent the run has is noted, not a problem (onboard
	// resumes it), and nothing more is sent.
	first := writePlacedRun(t, agents[:1])
	runDB := defaultDB(first)
	r = fleetCLI(t, vars, fleetAgents(agents), append([]string{"onboard", "--csv", first}, fast...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	sent := len(srv.Requests())
	r = fleetCLI(t, vars, fleetAgents(agents), "onboard", "--check", "--csv", clean, "--db", runDB)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "note: line 2: identity_number: already in the run, from line 2 of its CSV: onboard resumes that agent and does not use this row, unless the agent is parked at its uploads and the row changed (its correction)\n")
	assert.NotContains(t, r.stdout, "line 3:")
	assert.Contains(t, r.stdout, "flipkyc onboard --check: 2 rows: 1 new, 1 in the run (onboard resumes them), 0 bad; checked against the run in "+runDB)
	// With --json: one object per row, then the counts.
	r = fleetCLI(t, vars, fleetAgents(agents), "onboard", "--check", "--json", "--csv", clean, "--db", runDB)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, `{"field":"identity_number","line":2,"note":"already in the run, from line 2 of its CSV: onboard resumes that agent and does not use this row, unless the agent is parked at its uploads and the row changed (its correction)"}`+"\n"+
		`{"bad":0,"checked_against_run":true,"in_run":1,"locations_checked":true,"new":1,"rows":2}`+"\n", r.stdout)
	assert.Len(t, srv.Requests(), sent, "the lists came from the run; nothing sent")
	assert.Len(t, srv.Agents(), 1)

	// A new agent with the phone number of the run's agent is a problem
	// (Flip would refuse its create), in --check as in onboard, which
	// sends nothing for it; so it is for a row bad for another reason
	// (every problem of a row is printed).
	taken := writePlacedRun(t, []placedAgent{{fleetAgent: fleetAgent{suffix: "730007"}, loc: named, phone: "730001"},
		{fleetAgent: fleetAgent{suffix: "730008", image: "broken.png"}, loc: named, phone: "730001"}})
	takenRule := fmt.Sprintf("phone_number: another agent of the run has it (line 2, Flip's agent %d): Flip registers a phone number once\n", srv.Agents()[0].ID)
	r = fleetCLI(t, vars, fleetAgents(agents), "onboard", "--check", "--csv", taken, "--db", runDB)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stdout, "line 2: "+takenRule)
	assert.Contains(t, r.stdout, "line 3: identity_image: ")
	assert.Contains(t, r.stdout, "line 3: "+takenRule)
	assert.Contains(t, r.stdout, "flipkyc onboard --check: 2 rows: 0 new, 0 in the run (onboard resumes them), 2 bad; checked against the run in "+runDB)
	r = fleetCLI(t, vars, fleetAgents(agents), append([]string{"onboard", "--csv", taken, "--db", runDB}, fast...)...)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "line 2: "+takenRule)
	assert.Contains(t, r.stderr, "line 3: "+takenRule)
	assert.Contains(t, r.stderr, "2 rows: 0 new, 0 resumed, 2 bad")
	assert.Len(t, srv.Agents(), 1, "no create sent for the rows")

	// Usage errors: exit 2, nothing sent, no run; a file that is not a
	// run is left as it is.
	notARun := filepath.Join(filepath.Dir(clean), "notes.txt")
	require.NoError(t, os.WriteFile(notARun, []byte("not a run"), 0o600))
	r = fleetCLI(t, vars, nil, "onboard", "--check", "--csv", clean, "--db", notARun)
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "notes.txt is not a run's database: give a run's --db, or none to check against no run")
	got, err := os.ReadFile(notARun)
	require.NoError(t, err)
	assert.Equal(t, "not a run", string(got))
	for _, args := range [][]string{
		{"onboard", "--check"},
		{"onboard", "--check", "--csv", clean, "--listen", "127.0.0.1:0"},
		{"onboard", "--check", "--csv", filepath.Join(filepath.Dir(clean), "none.csv")},
	} {
		r = fleetCLI(t, vars, nil, args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
	}
	assert.Len(t, srv.Requests(), sent)
	assert.NoFileExists(t, defaultDB(clean))

	// A line that cannot be parsed as CSV is a bad row (and the byte in
	// it), and the rows after it are checked too.
	broken := writePlacedRun(t, agents[:5])
	data, err := os.ReadFile(broken)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	data = []byte(strings.Join(lines[:6], "") + "Agent \"quoted\" badly,ktp\n" + lines[2]) // line 8 repeats line 2
	require.NoError(t, os.WriteFile(broken, data, 0o600))
	r = fleetCLI(t, vars, fleetAgents(agents), "onboard", "--check", "--csv", broken)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stdout, "line 4: identity_number: the same as line 2's: one agent per identity number\n")
	assert.Contains(t, r.stdout, "line 5: phone_number: the same as line 3's: Flip registers a phone number once\n")
	assert.Contains(t, r.stdout, "line 7: row: cannot be read as CSV (byte 7): bare \" in non-quoted-field\n")
	assert.Contains(t, r.stdout, "line 8: identity_number: the same as line 3's: one agent per identity number\n")
	assert.Contains(t, r.stdout, "flipkyc onboard --check: 7 rows: 2 new, 0 in the run (onboard resumes them), 5 bad;")
	assert.NoFileExists(t, defaultDB(broken))
}

// --check prints a row's every problem at once, each rule as it is (the
// e-mail rule is not masked as if it held an address), after a note of
// the header's columns it does not read.
func TestCheckPrintsEveryProblemOfARow(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	a := fleetAgent{suffix: "740001"}
	path := writeFleetRun(t, nil)
	data := "name,identity_type,identity_number,birth_date,birth_place,gender,occupation,province_id,city_id,district_id,address,phone_number,email,identity_image,selfie_image,remark\n" +
		fleetName(a.suffix) + ",ktp," + a.identity() + ",1-1-90,Kota Testdata,female,private_employee,12,184,1234,Jalan Testdata Raya 1,62" + testPhone[1:] + "740001,not-an-email,ktp.png,selfie.png,call first\n"
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	r := fleetCLI(t, vars, []fleetAgent{a}, "onboard", "--check", "--csv", path)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	lines := strings.SplitAfter(r.stdout, "\n")
	require.Len(t, lines, 6, r.stdout) // the note, three problems, the counts, ""
	assert.Equal(t, "note: line 1: column 16: not a column onboard reads: ignored\n"+
		"line 2: birth_date: want DD-MM-YYYY or YYYY-MM-DD, a real calendar day\n"+
		"line 2: phone_number: must start with 0 or + (a country code follows +, as in +62…)\n"+
		"line 2: email: must be an email address: a name, then @, then a domain with a dot\n", strings.Join(lines[:4], ""))
	assert.True(t, strings.HasPrefix(lines[4], "flipkyc onboard --check: 1 row: 0 new, 0 in the run (onboard resumes them), 1 bad;"), lines[3])
}

// --check when Flip's lists cannot be read (Flip unavailable, or no
// FLIP_SECRET_KEY): the problems found without Flip are printed all the
// same, the counts say the locations were not checked, and the command
// fails saying the check is incomplete.
func TestCheckWithoutFlip(t *testing.T) {
	t.Parallel()
	unavailable := flipkyctest.WithMiddleware(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"message":"unavailable"}`, http.StatusServiceUnavailable)
		})
	})
	for _, tc := range []struct {
		name, suffix     string
		unavailable, key bool
		code             int
		counts, stderr   string
	}{
		{"Flip unavailable", "760001", true, true, exitFailure, "locations NOT all checked: a look-up failed;",
			"flipkyc onboard: the check is incomplete: a look-up of locations failed, and the locations of the rows from there on were not checked: looking up Flip's countries:"},
		{"no secret key", "760101", false, false, exitUsage, "locations NOT checked: Flip's lists cannot be read;",
			"flipkyc onboard: the check is incomplete: no location was checked, for Flip's lists cannot be read: FLIP_SECRET_KEY is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []flipkyctest.Option
			if tc.unavailable {
				opts = append(opts, unavailable)
			}
			srv, vars := fakeEnv(t, opts...)
			if !tc.key {
				vars = maps.Clone(vars)
				delete(vars, flipkyc.EnvSecretKey)
			}
			named := map[string]string{"province": "Jawa Barat", "city": "Kota Depok", "district": "Sukmajaya"}
			agents := []placedAgent{
				{fleetAgent: fleetAgent{suffix: tc.suffix}, loc: named},
				{fleetAgent: fleetAgent{suffix: tc.suffix}, loc: named, phone: "760009"}, // line 3: identity of line 2
			}
			csvPath := writePlacedRun(t, agents)
			r := fleetCLI(t, vars, fleetAgents(agents), "onboard", "--check", "--csv", csvPath)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stdout, "line 3: identity_number: the same as line 2's: one agent per identity number\n")
			assert.Contains(t, r.stdout, "2 rows: 1 new, 0 in the run (onboard resumes them), 1 bad; no run at "+defaultDB(csvPath)+" (none created): not checked against a run; "+tc.counts)
			assert.Contains(t, r.stderr, tc.stderr)
			if !tc.key {
				assert.Empty(t, srv.Requests(), "nothing sent without a key")
			}
			assert.NoFileExists(t, defaultDB(csvPath))
		})
	}
}

// A row whose fields cannot be told apart (too few for the header) is one
// problem: its locations are not looked up, nor reported missing.
func TestCheckShortRowIsOneProblem(t *testing.T) {
	t.Parallel()
	srv, vars := fakeEnv(t)
	a := placedAgent{fleetAgent: fleetAgent{suffix: "770001"}, loc: map[string]string{"province": "Jawa Barat", "city": "Kota Depok", "district": "Sukmajaya"}}
	path := writePlacedRun(t, []placedAgent{a})
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	header := strings.SplitAfter(string(data), "\n")[0]
	require.NoError(t, os.WriteFile(path, []byte(header+fleetName(a.suffix)+",ktp,"+a.identity()+"\n"), 0o600))
	r := fleetCLI(t, vars, fleetAgents([]placedAgent{a}), "onboard", "--check", "--csv", path)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	lines := strings.SplitAfter(r.stdout, "\n")
	require.Len(t, lines, 3, r.stdout)
	assert.Equal(t, "line 2: row: has 3 fields, the header 18: a separator too many or too few?\n", lines[0])
	assert.Empty(t, srv.Requests(), "no look-up for a row that could not be read")
}

// A quoted field left open to the end of the file stops the check with an
// input error naming its line, after the problems of the rows before it in
// its batch were printed.
func TestCheckStopsAtAnOpenQuote(t *testing.T) {
	t.Parallel()
	_, vars := fakeEnv(t)
	named := map[string]string{"province": "Jawa Barat", "city": "Kota Depok", "district": "Sukmajaya"}
	agents := []placedAgent{
		{fleetAgent: fleetAgent{suffix: "780001"}, loc: named},
		{fleetAgent: fleetAgent{suffix: "780001"}, loc: named, phone: "780009"}, // line 3: identity of line 2
	}
	path := writePlacedRun(t, agents)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("\"Agent left open,ktp\nmore,lines\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	r := fleetCLI(t, vars, fleetAgents(agents), "onboard", "--check", "--csv", path)
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Equal(t, "line 3: identity_number: the same as line 2's: one agent per identity number\n", r.stdout)
	assert.Contains(t, r.stderr, "CSV line 4: a quoted field opened there is still open at line 5")
}
