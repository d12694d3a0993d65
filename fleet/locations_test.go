package fleet_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flipkyc/flipkyc"
	"github.com/flipkyc/flipkyc/fleet"
	"github.com/flipkyc/flipkyc/flipkyctest"
)

// Names resolve to Flip's ids through its lists, which the run keeps: a
// second resolver on the run (a resumed run, another machine on Postgres)
// asks Flip for nothing. RunExists tells a run from no run without
// creating one.
func TestLocationsCachedInRun(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			dsn := runDSN(t, db, dir)
			exists, err := fleet.RunExists(ctx, dsn)
			require.NoError(t, err)
			assert.False(t, exists, "no run yet")
			if db == "sqlite" {
				assert.NoFileExists(t, dsn)
			}

			srv := flipkyctest.NewServer(t)
			client, err := srv.NewClient()
			require.NoError(t, err)
			path := writeRun(t, dir, 2, nil)
			rows := readRows(t, path)
			for i := range rows {
				rows[i].Params.CountryID, rows[i].Params.ProvinceID, rows[i].Params.CityID, rows[i].Params.DistrictID = 0, 0, 0, 0
				rows[i].Places = fleet.PlaceNames{Province: "jawa barat", City: "Kota  Depok", District: []string{"Sukmajaya", "BEJI"}[i]}
			}
			lookUps := func() int {
				return len(srv.RequestsTo(flipkyctest.RouteCountries)) + len(srv.RequestsTo(flipkyctest.RouteProvinces)) +
					len(srv.RequestsTo(flipkyctest.RouteCities)) + len(srv.RequestsTo(flipkyctest.RouteDistricts))
			}
			for round := range 2 {
				d, err := fleet.Open(ctx, dsn)
				require.NoError(t, err)
				good, bad, err := fleet.NewLocations(d, client).Resolve(ctx, rows)
				require.NoError(t, err)
				require.NoError(t, d.Close())
				assert.Empty(t, bad)
				require.Len(t, good, 2)
				for i, district := range []int64{1234, 1235} {
					p := good[i].Params
					assert.Equal(t, []int64{1, 12, 184, district}, []int64{p.CountryID, p.ProvinceID, p.CityID, p.DistrictID}, "round %d, row %d", round, i)
				}
				assert.Equal(t, 4, lookUps(), "round %d: one look-up per list, once per run", round)
			}
			exists, err = fleet.RunExists(ctx, dsn)
			require.NoError(t, err)
			assert.True(t, exists)
		})
	}
}

// A row that names a location and gives its id is bad, as is one whose
// ids do not nest; the CSV's own ids are checked with the same lists.
func TestLocationColumnsRead(t *testing.T) {
	dir := t.TempDir()
	path := writeRun(t, dir, 1, nil)
	rows := readRows(t, path)
	require.Len(t, rows, 1)
	assert.Equal(t, fleet.PlaceNames{}, rows[0].Places)

	ctx := context.Background()
	srv := flipkyctest.NewServer(t)
	client, err := srv.NewClient()
	require.NoError(t, err)
	rows[0].Params.DistrictID = 1500 // Kebayoran Baru, of Jakarta Selatan, not of Depok
	good, bad, err := fleet.NewLocations(nil, client).Resolve(ctx, rows)
	require.NoError(t, err)
	assert.Empty(t, good)
	require.Len(t, bad, 1)
	assert.Equal(t, "line 2: district_id: not the id of one of Flip's districts of city 184 (see 'flipkyc locations districts')", bad[0].Error())

	csv := "name,identity_type,identity_number,birth_date,birth_place,gender,occupation,province,province_id,city_id,district_id,address,phone_number,identity_image,selfie_image\n" +
		"Agent Number,ktp,3201000000010000,31-10-1990,Kota Depok,male,entrepreneur,Jawa Barat,12,184,1234,Jalan Margonda Raya 1,081200000001,ktp.png,selfie.png\n"
	_, rowErrs, err := fleet.ReadCSV(strings.NewReader(csv), dir)
	require.NoError(t, err)
	require.Len(t, rowErrs, 1)
	assert.Equal(t, "line 2: province: give province_id or province, not both", rowErrs[0].Error())
}

// A row that gives no province is told so in the columns its CSV has:
// the name column when the CSV names places, either column when it has
// both, the id column when it has only ids.
func TestMissingLocationInTheCSVsColumns(t *testing.T) {
	for _, tc := range []struct {
		columns, values, want string
	}{
		{"province,city,district", ",Kota Depok,Sukmajaya", "line 2: province: is required"},
		{"province_id,province,city,district", ",,Kota Depok,Sukmajaya", "line 2: province_id: is required: give province_id or province"},
		{"province_id,city_id,district_id", ",184,1234", "line 2: province_id: is required"},
		{"province_id,city,district_id", "12,,1234", "line 2: city: is required"},
	} {
		t.Run(tc.columns, func(t *testing.T) {
			csv := "name,identity_type,identity_number,birth_date,birth_place,gender,occupation," + tc.columns + ",address,phone_number,identity_image,selfie_image\n" +
				"Agent Number,ktp,3201000000010000,31-10-1990,Kota Depok,male,entrepreneur," + tc.values + ",Jalan Margonda Raya 1,081200000001,ktp.png,selfie.png\n"
			dir := t.TempDir()
			writeRun(t, dir, 1, nil) // the images
			_, rowErrs, err := fleet.ReadCSV(strings.NewReader(csv), dir)
			require.NoError(t, err)
			var got []string
			for _, e := range rowErrs {
				got = append(got, e.Error())
			}
			assert.Equal(t, []string{tc.want}, got)
		})
	}
}

// A city named with "Kota" or "Kabupaten" (in any of their spellings) is
// never the place of the other kind, which is another place: the row is
// bad, its closest names led by that other place. Without the prefix, the
// one place of the name fits. Resolved against the fake's lists, which
// write Flip's names with their prefix ("Kabupaten Simeulue").
func TestLocationKindPrefix(t *testing.T) {
	ctx := context.Background()
	srv := flipkyctest.NewServer(t)
	client, err := srv.NewClient()
	require.NoError(t, err)
	dir := t.TempDir()
	template := readRows(t, writeRun(t, dir, 1, nil))[0]
	for _, tc := range []struct {
		city, district string
		cityID         int64  // the city resolved, 0 for a bad row
		want           string // the bad row's error
	}{
		{city: "Kabupaten Simeulue", district: "Teupah Selatan", cityID: 1},
		{city: "kab. simeulue", district: "Teupah Selatan", cityID: 1},
		{city: "Simeulue", district: "Teupah Selatan", cityID: 1},
		{city: "Kota Banda Aceh", district: "Baiturrahman", cityID: 2},
		{city: "Banda Aceh", district: "Baiturrahman", cityID: 2},
		{city: "Kota Simeulue", district: "Teupah Selatan",
			want: `line 2: city: no city of province 1 of that name; closest in Flip's list: "Kabupaten Simeulue" (1), "Kota Banda Aceh" (2) (a kota is not a kabupaten: write the prefix Flip's name has, or none)`},
		{city: "Kabupaten Banda Aceh", district: "Baiturrahman",
			want: `line 2: city: no city of province 1 of that name; closest in Flip's list: "Kota Banda Aceh" (2), "Kabupaten Simeulue" (1) (a kabupaten is not a kota: write the prefix Flip's name has, or none)`},
		{city: "Kab Banda Aceh", district: "Baiturrahman",
			want: `line 2: city: no city of province 1 of that name; closest in Flip's list: "Kota Banda Aceh" (2), "Kabupaten Simeulue" (1) (a kabupaten is not a kota: write the prefix Flip's name has, or none)`},
		{city: "Kota Bandng", district: "Coblong", // no hint: a misspelling
			want: `line 2: city: no city of province 1 of that name; closest in Flip's list: "Kota Banda Aceh" (2), "Kabupaten Simeulue" (1)`},
	} {
		t.Run(tc.city, func(t *testing.T) {
			row := template
			row.Params.CountryID, row.Params.ProvinceID, row.Params.CityID, row.Params.DistrictID = 0, 0, 0, 0
			row.Places = fleet.PlaceNames{Province: "Aceh", City: tc.city, District: tc.district}
			good, bad, err := fleet.NewLocations(nil, client).Resolve(ctx, []fleet.Row{row})
			require.NoError(t, err)
			if tc.want != "" {
				assert.Empty(t, good)
				assert.Equal(t, tc.want, rowErrors(bad))
				return
			}
			assert.Empty(t, bad)
			require.Len(t, good, 1)
			assert.Equal(t, []int64{1, 1, tc.cityID}, []int64{good[0].Params.CountryID, good[0].Params.ProvinceID, good[0].Params.CityID})
		})
	}
}

// listServer answers Flip's four location look-ups on loopback from lists
// a test may change, and counts the look-ups of each.
type listServer struct {
	mu        sync.Mutex
	districts []flipkyc.Location // of Kota Depok (184)
	asked     map[string]int     // by path, "/districts"
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.TrimPrefix(r.URL.Path, "/")
	s.asked[r.URL.Path]++
	list := map[string][]flipkyc.Location{
		"countries": {{ID: 1, Name: "Indonesia"}},
		"provinces": {{ID: 12, Name: "Jawa Barat"}},
		"cities":    {{ID: 184, Name: "Kota Depok"}},
		"districts": s.districts,
	}[key]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{key: list})
}

func (s *listServer) add(loc flipkyc.Location) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.districts = append(s.districts, loc)
}

func (s *listServer) lookUps(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[path]
}

// A list the run keeps is asked of Flip again when a row's name fits
// nothing in it, or its id is not in it, so that a place Flip added since
// is found; that once per list and resolver, however many rows miss, and
// the fresh list is kept in the run, so that a later resolver finds the
// place without asking.
func TestLocationListRefreshedOnMiss(t *testing.T) {
	const added = 1236 // Cilodong, which Flip adds to Kota Depok's districts
	unknown := func(n int) []string {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("Nowhere %d", i)
		}
		return names
	}
	for _, db := range []string{"sqlite", "postgres"} {
		for _, tc := range []struct {
			name         string
			sameResolver bool     // the resolver that read the list first, or a later one on the run
			districts    []string // by name, or "id" for the added district's id
			good, bad    int
			lookUps      int // of Kota Depok's districts, the first one included
		}{
			{name: "new name, later resolver", districts: []string{"Cilodong"}, good: 1, lookUps: 2},
			{name: "new name, same resolver", sameResolver: true, districts: []string{"Cilodong"}, good: 1, lookUps: 2},
			{name: "new id, later resolver", districts: []string{"id"}, good: 1, lookUps: 2},
			{name: "new id, same resolver", sameResolver: true, districts: []string{"id"}, good: 1, lookUps: 2},
			{name: "many misses, one look-up", districts: append(unknown(500), "Cilodong", "id"), good: 2, bad: 500, lookUps: 2},
			{name: "many misses, same resolver", sameResolver: true, districts: append(unknown(500), "Cilodong"), good: 1, bad: 500, lookUps: 2},
			{name: "no miss, no look-up", districts: []string{"Sukmajaya", "beji"}, good: 2, lookUps: 1},
		} {
			t.Run(db+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				dir := t.TempDir()
				dsn := runDSN(t, db, dir)
				d, err := fleet.Open(ctx, dsn)
				require.NoError(t, err)
				t.Cleanup(func() { _ = d.Close() })
				flip := &listServer{districts: []flipkyc.Location{{ID: 1234, Name: "Sukmajaya"}, {ID: 1235, Name: "Beji"}}, asked: map[string]int{}}
				srv := httptest.NewServer(flip)
				t.Cleanup(srv.Close)
				client, err := flipkyc.New("test-key", flipkyc.WithBaseURLs(srv.URL, srv.URL))
				require.NoError(t, err)

				template := readRows(t, writeRun(t, dir, 1, nil))[0]
				row := func(line int, district string) fleet.Row {
					r := template
					r.Line = line
					r.Params.CountryID, r.Params.ProvinceID, r.Params.CityID, r.Params.DistrictID = 0, 0, 0, 0
					r.Places = fleet.PlaceNames{Province: "Jawa Barat", City: "Kota Depok"}
					if district == "id" {
						r.Params.DistrictID = added
					} else {
						r.Places.District = district
					}
					return r
				}
				first := fleet.NewLocations(d, client)
				good, bad, err := first.Resolve(ctx, []fleet.Row{row(2, "Sukmajaya")})
				require.NoError(t, err)
				require.Len(t, good, 1)
				require.Empty(t, bad)

				flip.add(flipkyc.Location{ID: added, Name: "Cilodong"})
				l := first
				if !tc.sameResolver {
					l = fleet.NewLocations(d, client)
				}
				var rows []fleet.Row
				for i, district := range tc.districts {
					rows = append(rows, row(i+2, district))
				}
				good, bad, err = l.Resolve(ctx, rows)
				require.NoError(t, err)
				assert.Len(t, good, tc.good)
				for _, g := range good {
					if g.Places.District == "Cilodong" || g.Places.District == "" {
						assert.Equal(t, int64(added), g.Params.DistrictID)
					}
				}
				assert.Len(t, bad, tc.bad)
				assert.Equal(t, tc.lookUps, flip.lookUps("/districts"), "look-ups of the districts")
				for _, path := range []string{"/countries", "/provinces", "/cities"} {
					assert.Equal(t, 1, flip.lookUps(path), path)
				}

				// The run keeps the list as Flip last gave it: a later
				// resolver finds the added district (asking Flip once
				// more only if no row missed before).
				good, bad, err = fleet.NewLocations(d, client).Resolve(ctx, []fleet.Row{row(2, "Cilodong")})
				require.NoError(t, err)
				assert.Empty(t, bad)
				require.Len(t, good, 1)
				assert.Equal(t, int64(added), good[0].Params.DistrictID)
				assert.Equal(t, 2, flip.lookUps("/districts"), "look-ups of the districts, in all")
			})
		}
	}
}
