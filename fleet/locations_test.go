package fleet_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			dsn := filepath.Join(dir, "run.db")
			if db == "postgres" {
				dsn = postgresDSN(t)
			}
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
