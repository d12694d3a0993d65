package flipkyctest

import (
	"net/http"
	"strconv"
)

// place is one location of the fake's data set, with its parent's id.
type place struct {
	id, parent int64
	name       string
}

// A small, realistic data set: ids follow Flip's documented examples
// (Indonesia 1; Aceh 1 / Kabupaten Simeulue 1 / Teupah Selatan 1; Jawa Barat
// 12 / Kota Depok 184 / Sukmajaya 1234). Jawa Barat has both Kota Bandung
// and Kabupaten Bandung, as Flip's lists do, so that "Bandung" alone fits
// two places.
var (
	countries = []place{{1, 0, "Indonesia"}}
	provinces = []place{{1, 1, "Aceh"}, {6, 1, "DKI Jakarta"}, {12, 1, "Jawa Barat"}}
	cities    = []place{
		{1, 1, "Kabupaten Simeulue"}, {2, 1, "Kota Banda Aceh"},
		{150, 6, "Kota Jakarta Selatan"}, {151, 6, "Kota Jakarta Pusat"},
		{184, 12, "Kota Depok"}, {185, 12, "Kota Bandung"}, {186, 12, "Kabupaten Bandung"},
	}
	districts = []place{
		{1, 1, "Teupah Selatan"}, {2, 1, "Simeulue Timur"}, {20, 2, "Baiturrahman"},
		{1500, 150, "Kebayoran Baru"}, {1501, 150, "Tebet"}, {1510, 151, "Menteng"},
		{1234, 184, "Sukmajaya"}, {1235, 184, "Beji"}, {1250, 185, "Coblong"},
		{1270, 186, "Cileunyi"},
	}
)

func findPlace(id int64, in []place) (place, bool) {
	for _, p := range in {
		if p.id == id {
			return p, true
		}
	}
	return place{}, false
}

func placeName(id int64, in []place) string {
	p, _ := findPlace(id, in)
	return p.name
}

// checkPlaces checks that the ids given nest (district in city in province
// in country) and returns the first field that does not, or "". A zero id
// was not sent (no list holds 0): it is not checked, nor is its child
// checked against it. The rules table has checked that each id given is in
// its list.
func checkPlaces(country, province, city, district int64, prefix string) string {
	levels := []struct {
		field string
		id    int64
		in    []place
	}{
		{"country_id", country, countries},
		{"province_id", province, provinces},
		{"city_id", city, cities},
		{"district_id", district, districts},
	}
	for i, l := range levels[1:] {
		parent := levels[i].id
		if l.id == 0 || parent == 0 {
			continue
		}
		if p, ok := findPlace(l.id, l.in); !ok || p.parent != parent {
			return prefix + l.field
		}
	}
	return ""
}

// listPlaces answers a location look-up, filtered by the parent id in the
// query parameter filter when it is given.
func listPlaces(x *exchange, key, filter string, in []place) (int, any) {
	var parent int64
	if v := x.rec.Fields[filter]; filter != "" && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return http.StatusBadRequest, kycError(4001, "Invalid input parameter")
		}
		parent = n
	}
	items := []map[string]any{}
	for _, p := range in {
		if parent == 0 || p.parent == parent {
			items = append(items, map[string]any{"id": p.id, "name": p.name})
		}
	}
	return http.StatusOK, map[string]any{key: items}
}

func (s *Server) countries(x *exchange) (int, any) { return listPlaces(x, "countries", "", countries) }
func (s *Server) provinces(x *exchange) (int, any) {
	return listPlaces(x, "provinces", "country_id", provinces)
}
func (s *Server) cities(x *exchange) (int, any) {
	return listPlaces(x, "cities", "province_id", cities)
}
func (s *Server) districts(x *exchange) (int, any) {
	return listPlaces(x, "districts", "city_id", districts)
}
