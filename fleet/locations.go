package fleet

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/flipkyc/flipkyc"
)

// DefaultCountry is the country of a row that gives neither country_id nor
// country: Locations.Resolve looks its id up in Flip's ListCountries.
const DefaultCountry = "Indonesia"

// Locations resolves the locations of onboarding rows through Flip's lists
// (ListCountries, ListProvinces, ListCities, ListDistricts). Each list is
// asked of Flip once per parent and kept in the run's database
// (fleet_locations), so a resumed run, or one of many rows, asks again for
// nothing it has.
type Locations struct {
	db   *DB // nil: the lists are kept in memory only
	flip *flipkyc.Client
	mu   sync.Mutex
	// lists are those read so far, by level and parent id.
	lists map[listKey][]flipkyc.Location
	// matched are the names matched so far, so that many rows of one
	// place are matched once.
	matched map[matchKey]matchResult
}

type matchKey struct {
	listKey
	name string
}

type matchResult struct {
	id         int64
	candidates []flipkyc.Location
	ambiguous  bool
}

type listKey struct {
	level  int // index of LocationNameColumns
	parent int64
}

// NewLocations returns a resolver that asks flip for the lists it lacks and
// keeps them in db; with a nil db (a check without a run) it keeps them in
// memory only.
func NewLocations(db *DB, flip *flipkyc.Client) *Locations {
	return &Locations{db: db, flip: flip, lists: map[listKey][]flipkyc.Location{}, matched: map[matchKey]matchResult{}}
}

// Locations returns the run's resolver of location names, which asks Flip
// through the fleet's client (under its rate limit).
func (f *Fleet) Locations() *Locations { return NewLocations(f.db, f.flip) }

// levelNames are the levels of LocationNameColumns, for the rules of bad
// rows: the singular and the plural.
var levelNames = [][2]string{{"country", "countries"}, {"province", "provinces"}, {"city", "cities"}, {"district", "districts"}}

// Resolve sets the location ids of each row from its names (Row.Places),
// the country being DefaultCountry when the row gives neither its id nor
// its name, and checks every id, given or resolved, against Flip's list of
// its parent: a province of the country, a city of the province, a
// district of the city. Names are matched case- and space-insensitively,
// with "Kab." and "Kec." read as "Kabupaten" and "Kecamatan", and also
// without an administrative prefix ("Provinsi", "Kota", "Kabupaten",
// "Kecamatan") when no name matches whole. A name that
// matches no place, or several, or an id not in its parent's list, makes
// the row bad, with the closest names Flip lists (at most 3). The good
// rows are returned in order. The error is a look-up that failed: no row
// was judged by it.
func (l *Locations) Resolve(ctx context.Context, rows []Row) ([]Row, []RowError, error) {
	good := rows[:0:0]
	var bad []RowError
	for _, r := range rows {
		e, err := l.resolve(ctx, &r)
		if err != nil {
			return nil, nil, err
		}
		if e != nil {
			bad = append(bad, *e)
			continue
		}
		good = append(good, r)
	}
	return good, bad, nil
}

// resolve resolves one row's locations, level by level.
func (l *Locations) resolve(ctx context.Context, r *Row) (*RowError, error) {
	p := &r.Params
	ids := []*int64{&p.CountryID, &p.ProvinceID, &p.CityID, &p.DistrictID}
	names := []string{r.Places.Country, r.Places.Province, r.Places.City, r.Places.District}
	if *ids[0] == 0 && names[0] == "" {
		names[0] = DefaultCountry
	}
	var parent int64
	for level := range ids {
		list, err := l.list(ctx, level, parent)
		if err != nil {
			return nil, err
		}
		within := ""
		if level > 0 {
			within = fmt.Sprintf(" of %s %d", levelNames[level-1][0], parent)
		}
		switch id := *ids[level]; {
		case id != 0:
			if !slices.ContainsFunc(list, func(loc flipkyc.Location) bool { return loc.ID == id }) {
				return &RowError{r.Line, locationIDColumns[level], fmt.Sprintf("not the id of one of Flip's %s%s (see 'flipkyc locations %s')",
					levelNames[level][1], within, levelNames[level][1])}, nil
			}
		case names[level] != "":
			found, candidates, ambiguous := l.match(level, parent, list, names[level])
			if found != 0 {
				*ids[level] = found
				break
			}
			field := LocationNameColumns[level]
			if level == 0 && r.Places.Country == "" {
				field = "country_id"
			}
			var rule string
			switch {
			case ambiguous:
				rule = fmt.Sprintf("matches %d of Flip's %s%s: %s; give the full name, or %s", len(candidates), levelNames[level][1], within, listed(candidates), locationIDColumns[level])
			case len(candidates) == 0:
				rule = fmt.Sprintf("Flip lists no %s%s", levelNames[level][1], within)
			default:
				rule = fmt.Sprintf("no %s%s of that name; closest in Flip's list: %s", levelNames[level][0], within, listed(candidates))
			}
			return &RowError{r.Line, field, rule}, nil
		default:
			return &RowError{r.Line, locationIDColumns[level], "is required: give " + locationIDColumns[level] + " or " + LocationNameColumns[level]}, nil
		}
		parent = *ids[level]
	}
	return nil, nil
}

// match is match, remembered for the name within the list of level and
// parent.
func (l *Locations) match(level int, parent int64, list []flipkyc.Location, name string) (int64, []flipkyc.Location, bool) {
	k := matchKey{listKey{level, parent}, name}
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.matched[k]
	if !ok {
		r.id, r.candidates, r.ambiguous = match(list, name)
		l.matched[k] = r
	}
	return r.id, r.candidates, r.ambiguous
}

// match finds name in list and returns its id; when there is not one
// place of that name, it returns the places it matches (ambiguous) or the
// closest names (at most 3, by edit distance).
func match(list []flipkyc.Location, name string) (id int64, candidates []flipkyc.Location, ambiguous bool) {
	key := fullKey(name)
	for _, same := range []func(flipkyc.Location) bool{
		func(loc flipkyc.Location) bool { return fullKey(loc.Name) == key },
		func(loc flipkyc.Location) bool { return withoutPrefix(fullKey(loc.Name)) == withoutPrefix(key) },
	} {
		var found []flipkyc.Location
		for _, loc := range list {
			if same(loc) {
				found = append(found, loc)
			}
		}
		switch {
		case len(found) == 1:
			return found[0].ID, nil, false
		case len(found) > 1:
			return 0, found, true
		}
	}
	closest := slices.Clone(list)
	dist := make(map[int64]int, len(list))
	for _, loc := range list {
		dist[loc.ID] = editDistance(withoutPrefix(key), withoutPrefix(fullKey(loc.Name)))
	}
	slices.SortStableFunc(closest, func(a, b flipkyc.Location) int {
		return cmp.Or(cmp.Compare(dist[a.ID], dist[b.ID]), strings.Compare(a.Name, b.Name))
	})
	return 0, closest[:min(3, len(closest))], false
}

// listed names places with their ids: "Kota Depok" (184), ….
func listed(list []flipkyc.Location) string {
	s := make([]string, len(list))
	for i, loc := range list {
		s[i] = fmt.Sprintf("%q (%d)", loc.Name, loc.ID)
	}
	return strings.Join(s, ", ")
}

// nameKey is a name as the matching compares it: lower case, spaces
// trimmed and runs of spaces made one.
func nameKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// abbreviations are the short forms of administrative prefixes an
// identity card may use, in nameKey's form, with the full word: with a
// dot, with a dot and no space, and without the dot.
var abbreviations = [][2]string{
	{"kota adm. ", "kota administrasi "}, {"kota adm.", "kota administrasi "}, {"kota adm ", "kota administrasi "},
	{"kab. ", "kabupaten "}, {"kab.", "kabupaten "}, {"kab ", "kabupaten "},
	{"kec. ", "kecamatan "}, {"kec.", "kecamatan "}, {"kec ", "kecamatan "},
	{"prov. ", "provinsi "}, {"prov.", "provinsi "}, {"prov ", "provinsi "},
}

// adminPrefixes are the words an identity card or a list may put before a
// place's name, in nameKey's form with abbreviations written out.
var adminPrefixes = []string{"provinsi ", "kota administrasi ", "kota ", "kabupaten ", "kecamatan "}

// fullKey is nameKey of name with an abbreviated prefix written out and
// without dots ("D.K.I. Jakarta" is "dki jakarta").
func fullKey(name string) string {
	key := nameKey(name)
	for _, a := range abbreviations {
		if rest, ok := strings.CutPrefix(key, a[0]); ok && strings.TrimSpace(rest) != "" {
			key = a[1] + rest
			break
		}
	}
	return nameKey(strings.ReplaceAll(key, ".", ""))
}

// withoutPrefix is key (a fullKey) without its administrative prefix.
func withoutPrefix(key string) string {
	for _, p := range adminPrefixes {
		if rest, ok := strings.CutPrefix(key, p); ok && rest != "" {
			return rest
		}
	}
	return key
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// list returns Flip's list of the places of level within parent: from
// memory, from the run's cache, or from Flip, which it then caches.
func (l *Locations) list(ctx context.Context, level int, parent int64) ([]flipkyc.Location, error) {
	k := listKey{level, parent}
	l.mu.Lock()
	defer l.mu.Unlock()
	if list, ok := l.lists[k]; ok {
		return list, nil
	}
	kind := levelNames[level][0]
	if l.db != nil {
		list, ok, err := l.db.cachedLocations(ctx, kind, parent)
		if err != nil {
			return nil, fmt.Errorf("reading the run's %s: %w", levelNames[level][1], err)
		}
		if ok {
			l.lists[k] = list
			return list, nil
		}
	}
	if l.flip == nil {
		return nil, errors.New("fleet: resolving locations needs Flip's secret key")
	}
	var list []flipkyc.Location
	var err error
	switch level {
	case 0:
		list, err = l.flip.ListCountries(ctx)
	case 1:
		list, err = l.flip.ListProvinces(ctx, parent)
	case 2:
		list, err = l.flip.ListCities(ctx, parent)
	default:
		list, err = l.flip.ListDistricts(ctx, parent)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up Flip's %s: %w", levelNames[level][1], err)
	}
	if l.db != nil {
		if err := l.db.cacheLocations(ctx, kind, parent, list); err != nil {
			return nil, fmt.Errorf("keeping Flip's %s in the run: %w", levelNames[level][1], err)
		}
	}
	l.lists[k] = list
	return list, nil
}

// cachedLocations returns the list of kind within parent that the run
// keeps, and whether it keeps it.
func (d *DB) cachedLocations(ctx context.Context, kind string, parent int64) ([]flipkyc.Location, bool, error) {
	var n int
	err := d.queryRow(ctx, d.sql, "SELECT 1 FROM fleet_location_lists WHERE kind = ? AND parent_id = ?", kind, parent).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	rows, err := d.query(ctx, d.sql, "SELECT id, name FROM fleet_locations WHERE kind = ? AND parent_id = ? ORDER BY id", kind, parent)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	list := []flipkyc.Location{}
	for rows.Next() {
		var loc flipkyc.Location
		if err := rows.Scan(&loc.ID, &loc.Name); err != nil {
			return nil, false, err
		}
		list = append(list, loc)
	}
	return list, true, rows.Err()
}

// cacheLocations keeps Flip's list of kind within parent in the run, with
// a mark that the whole list is there (an empty list too). A process that
// kept it meanwhile wins.
func (d *DB) cacheLocations(ctx context.Context, kind string, parent int64, list []flipkyc.Location) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		for _, loc := range list {
			if _, err := d.exec(ctx, tx, "INSERT INTO fleet_locations (kind, parent_id, id, name) VALUES (?, ?, ?, ?) ON CONFLICT (kind, parent_id, id) DO NOTHING",
				kind, parent, loc.ID, loc.Name); err != nil {
				return err
			}
		}
		_, err := d.exec(ctx, tx, "INSERT INTO fleet_location_lists (kind, parent_id, fetched_at) VALUES (?, ?, ?) ON CONFLICT (kind, parent_id) DO NOTHING",
			kind, parent, nowMillis())
		return err
	})
}
