package fleet

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/flipkyc/flipkyc"
)

func TestMatchLocationName(t *testing.T) {
	cities := []flipkyc.Location{{ID: 184, Name: "Kota Depok"}, {ID: 185, Name: "Kota Bandung"}, {ID: 186, Name: "Kabupaten Bandung"},
		{ID: 187, Name: "Kota Bogor"}, {ID: 188, Name: "Kabupaten Bogor"}, {ID: 189, Name: "Kota Cimahi"}}
	for _, tc := range []struct {
		name       string
		id         int64
		candidates []int64
		ambiguous  bool
	}{
		{"Kota Depok", 184, nil, false},
		{"  KOTA   depok ", 184, nil, false},
		{"Depok", 184, nil, false},                      // without the prefix, one place
		{"KAB. BANDUNG", 186, nil, false},               // the card's abbreviation
		{"Kab.Bandung", 186, nil, false},                // without the space
		{"kab bandung", 186, nil, false},                // without the dot
		{"Kabupaten Bandung", 186, nil, false},          // whole, though "Bandung" alone is two places
		{"Bandung", 0, []int64{185, 186}, true},         // Kota and Kabupaten
		{"Kota Depk", 0, []int64{184, 188, 187}, false}, // closest by edit distance, then by name
		{"Bogr", 0, []int64{188, 187, 184}, false},
	} {
		id, candidates, ambiguous := match(cities, tc.name, cityLevel)
		var ids []int64
		for _, c := range candidates {
			ids = append(ids, c.ID)
		}
		assert.Equal(t, tc.id, id, "%q", tc.name)
		assert.Equal(t, tc.candidates, ids, "%q", tc.name)
		assert.Equal(t, tc.ambiguous, ambiguous, "%q", tc.name)
	}
	provinces := []flipkyc.Location{{ID: 6, Name: "DKI Jakarta"}, {ID: 12, Name: "Jawa Barat"}}
	jakarta := []flipkyc.Location{{ID: 150, Name: "Kota Administrasi Jakarta Selatan"}, {ID: 151, Name: "Kota Administrasi Jakarta Pusat"}}
	// A prefix is read only at its level: "Kota" before a district's
	// name is part of it.
	districts := []flipkyc.Location{{ID: 1234, Name: "Sukmajaya"}, {ID: 1235, Name: "Beji"}, {ID: 1236, Name: "Kota Baru"}}
	for _, tc := range []struct {
		list  []flipkyc.Location
		level int
		name  string
		id    int64
	}{
		{provinces, 1, "D.K.I. Jakarta", 6},
		{provinces, 1, "Prov Jawa Barat", 12},
		{provinces, 1, "Prov. Jawa Barat", 12},
		{provinces, 1, "Provinsi DKI Jakarta", 6},
		{jakarta, cityLevel, "Kota Adm. Jakarta Selatan", 150},
		{jakarta, cityLevel, "KOTA ADM JAKARTA PUSAT", 151},
		{jakarta, cityLevel, "Jakarta Selatan", 150},
		{districts, 3, "Kecamatan Beji", 1235},
		{districts, 3, "Kec. Sukmajaya", 1234},
		{districts, 3, "Kota Baru", 1236},
		{districts, 3, "Kota Beji", 0},
		{districts, 3, "Baru", 0},
		{provinces, 1, "Kota Jawa Barat", 0},
	} {
		id, _, _ := match(tc.list, tc.name, tc.level)
		assert.Equal(t, tc.id, id, "%q", tc.name)
	}
	// A Kota and a Kabupaten of one name are different places: a name
	// whose prefix says the one never matches the other, whether or not
	// Flip's list has the other of that name too; its closest names are
	// the place of the other kind first. Flip's lists may also write names
	// without a prefix (the docs' "Depok"): any prefix then fits.
	aceh := []flipkyc.Location{{ID: 1, Name: "Kabupaten Simeulue"}, {ID: 2, Name: "Kota Banda Aceh"}}
	bare := []flipkyc.Location{{ID: 184, Name: "Depok"}, {ID: 190, Name: "Bekasi"}, {ID: 191, Name: "Kabupaten Bekasi"}}
	jakarta = append(jakarta, flipkyc.Location{ID: 101, Name: "Kabupaten Administrasi Kepulauan Seribu"})
	for _, tc := range []struct {
		list       []flipkyc.Location
		name       string
		id         int64
		candidates []int64
	}{
		{aceh, "Kota Simeulue", 0, []int64{1, 2}},
		{aceh, "Kabupaten Banda Aceh", 0, []int64{2, 1}},
		{aceh, "Kab. Banda Aceh", 0, []int64{2, 1}},
		{aceh, "KAB BANDA ACEH", 0, []int64{2, 1}},
		{aceh, "Kota Adm. Simeulue", 0, []int64{1, 2}},
		{aceh, "Kabupaten Simeulue", 1, nil},
		{aceh, "Kab. Simeulue", 1, nil},
		{aceh, "Simeulue", 1, nil},
		{aceh, "Kota Banda Aceh", 2, nil},
		{aceh, "banda  aceh", 2, nil},
		{cities, "Kota Bogor", 187, nil},
		{cities, "Kab. Bogor", 188, nil},
		{cities, "Kabupaten Depok", 0, []int64{184, 188, 187}},
		{bare, "Kota Depok", 184, nil},
		{bare, "Kab. Depok", 184, nil}, // Flip's name says no kind
		{bare, "Kota Bekasi", 190, nil},
		{bare, "Kabupaten Bekasi", 191, nil},
		{jakarta, "Kab. Adm. Kepulauan Seribu", 101, nil},
		{jakarta, "Kepulauan Seribu", 101, nil},
		{jakarta, "Kota Kepulauan Seribu", 0, []int64{101, 150, 151}},
		{jakarta, "Kabupaten Jakarta Selatan", 0, []int64{150, 151, 101}},
	} {
		id, candidates, ambiguous := match(tc.list, tc.name, cityLevel)
		var ids []int64
		for _, c := range candidates {
			ids = append(ids, c.ID)
		}
		assert.Equal(t, tc.id, id, "%q", tc.name)
		assert.Equal(t, tc.candidates, ids, "%q", tc.name)
		assert.False(t, ambiguous, "%q", tc.name)
	}
	_, none, _ := match(nil, "Depok", cityLevel)
	assert.Empty(t, none)
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"depok", "depok", 0}, {"depk", "depok", 1}, {"bogor", "depok", 4}, {"", "abc", 3}, {"sukmajaya", "sukmajya", 1}, {"é", "e", 1}} {
		assert.Equal(t, tc.want, editDistance(tc.a, tc.b), "%q %q", tc.a, tc.b)
		assert.Equal(t, tc.want, editDistance(tc.b, tc.a), "%q %q", tc.b, tc.a)
	}
}
