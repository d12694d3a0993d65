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
// nothing it has; a row that misses in a list (a name that fits no place,
// an id not in it) makes it ask Flip for that list again, once per list
// and Locations, so that a place Flip added since is found.
type Locations struct {
	db   *DB // nil: the lists are kept in memory only
	flip *flipkyc.Client
	mu   sync.Mutex
	// lists are those read so far, by level and parent id.
	lists map[listKey]*placeList
}

// placeList is one of Flip's lists as a Locations read it.
type placeList struct {
	level  int // of its places: 0 countries … 3 districts
	places []flipkyc.Location
	// refreshed is set once the list was asked of Flip again after a
	// miss: it is not asked again.
	refreshed bool
	// matched are the names matched so far, so that many rows of one
	// place are matched once.
	matched map[string]matchResult
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
	return &Locations{db: db, flip: flip, lists: map[listKey]*placeList{}}
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
// "Kecamatan") when no name matches whole; but a name that says "Kota"
// never matches a "Kabupaten" of Flip's, nor the reverse: they are
// different places. A name that matches no place, or several, or an id
// not in its parent's list, makes the row bad, with the closest names Flip
// lists (at most 3); before a miss (no place, or an id not in the list)
// makes a row bad, the list is asked of Flip again, once per list. The
// good rows are returned in order. The error is a look-up that failed: no
// row was judged by it.
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
		within := ""
		if level > 0 {
			within = fmt.Sprintf(" of %s %d", levelNames[level-1][0], parent)
		}
		if *ids[level] == 0 && names[level] == "" {
			return &RowError{r.Line, locationIDColumns[level], "is required: give " + locationIDColumns[level] + " or " + LocationNameColumns[level]}, nil
		}
		found, err := l.place(ctx, listKey{level, parent}, *ids[level], names[level])
		if err != nil {
			return nil, err
		}
		switch {
		case found.id != 0:
			*ids[level] = found.id
		case *ids[level] != 0:
			return &RowError{r.Line, locationIDColumns[level], fmt.Sprintf("not the id of one of Flip's %s%s (see 'flipkyc locations %s')",
				levelNames[level][1], within, levelNames[level][1])}, nil
		default:
			field := LocationNameColumns[level]
			if level == 0 && r.Places.Country == "" {
				field = "country_id"
			}
			var rule string
			switch {
			case found.ambiguous:
				rule = fmt.Sprintf("matches %d of Flip's %s%s: %s; give the full name, or %s", len(found.candidates), levelNames[level][1], within, listed(found.candidates), locationIDColumns[level])
			case len(found.candidates) == 0:
				rule = fmt.Sprintf("Flip lists no %s%s", levelNames[level][1], within)
			default:
				rule = fmt.Sprintf("no %s%s of that name; closest in Flip's list: %s%s", levelNames[level][0], within, listed(found.candidates), kindHint(names[level], found.candidates[0], level))
			}
			return &RowError{r.Line, field, rule}, nil
		}
		parent = *ids[level]
	}
	return nil, nil
}

// place finds the place that id (when not 0) or name gives in the list
// key names: in the list as read, and, if it is not there, in the list as
// Flip gives it now, when it was not asked again already. An ambiguous
// name is no miss: Flip adding a place would not make it one place.
func (l *Locations) place(ctx context.Context, key listKey, id int64, name string) (matchResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	list, err := l.list(ctx, key)
	if err != nil {
		return matchResult{}, err
	}
	found := list.find(id, name)
	if found.id != 0 || found.ambiguous || list.refreshed {
		return found, nil
	}
	if list, err = l.fetch(ctx, key); err != nil {
		return matchResult{}, err
	}
	list.refreshed = true
	return list.find(id, name), nil
}

// find is the place of id in the list (none when it is not there) or,
// for a zero id, match of name, remembered.
func (pl *placeList) find(id int64, name string) matchResult {
	if id != 0 {
		if slices.ContainsFunc(pl.places, func(loc flipkyc.Location) bool { return loc.ID == id }) {
			return matchResult{id: id}
		}
		return matchResult{}
	}
	r, ok := pl.matched[name]
	if !ok {
		r.id, r.candidates, r.ambiguous = match(pl.places, name, pl.level)
		pl.matched[name] = r
	}
	return r
}

// match finds name in list, of places of level, and returns its id; when
// there is not one place of that name, it returns the places it matches
// (ambiguous) or the closest names (at most 3, by edit distance).
func match(list []flipkyc.Location, name string, level int) (id int64, candidates []flipkyc.Location, ambiguous bool) {
	key := fullKey(name)
	kind, bare := splitPrefix(key, level)
	for _, same := range []func(flipkyc.Location) bool{
		func(loc flipkyc.Location) bool { return fullKey(loc.Name) == key },
		func(loc flipkyc.Location) bool {
			locKind, locBare := splitPrefix(fullKey(loc.Name), level)
			return locBare == bare && (kind == "" || locKind == "" || kind == locKind)
		},
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
		_, locBare := splitPrefix(fullKey(loc.Name), level)
		dist[loc.ID] = editDistance(bare, locBare)
	}
	slices.SortStableFunc(closest, func(a, b flipkyc.Location) int {
		return cmp.Or(cmp.Compare(dist[a.ID], dist[b.ID]), strings.Compare(a.Name, b.Name))
	})
	return 0, closest[:min(3, len(closest))], false
}

// kindHint says, when name and the closest place, cities (level), differ
// only in their kind (a kota, a kabupaten), that they are different
// places; else "".
func kindHint(name string, closest flipkyc.Location, level int) string {
	if level != cityLevel {
		return ""
	}
	kind, bare := splitPrefix(fullKey(name), cityLevel)
	locKind, locBare := splitPrefix(fullKey(closest.Name), cityLevel)
	if kind == "" || locKind == "" || kind == locKind || bare != locBare {
		return ""
	}
	return fmt.Sprintf(" (a %s is not a %s: write the prefix Flip's name has, or none)", kind, locKind)
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
// identity card may use, in nameKey's form, with the full words: with a
// dot, with a dot and no space, and without the dot.
var abbreviations = [][2]string{
	{"kota adm. ", "kota administrasi "}, {"kota adm.", "kota administrasi "}, {"kota adm ", "kota administrasi "},
	{"kab. adm. ", "kabupaten administrasi "}, {"kab. adm.", "kabupaten administrasi "}, {"kab adm ", "kabupaten administrasi "},
	{"kab. ", "kabupaten "}, {"kab.", "kabupaten "}, {"kab ", "kabupaten "},
	{"kec. ", "kecamatan "}, {"kec.", "kecamatan "}, {"kec ", "kecamatan "},
	{"prov. ", "provinsi "}, {"prov.", "provinsi "}, {"prov ", "provinsi "},
}

// cityLevel is the level of cities, kotas and kabupatens (LocationNameColumns).
const cityLevel = 2

// adminPrefixes are the words an identity card or a list may put before a
// place's name, in nameKey's form with abbreviations written out, with the
// level of the places they name (a province, a city, a district: "Kota"
// before a district's name is part of it) and the kind of place they say
// when a place of another kind may have the same name (Kota Bandung and
// Kabupaten Bandung), else "".
var adminPrefixes = []struct {
	prefix string
	level  int
	kind   string
}{
	{"provinsi ", 1, ""}, {"kota administrasi ", cityLevel, "kota"}, {"kota ", cityLevel, "kota"},
	{"kabupaten administrasi ", cityLevel, "kabupaten"}, {"kabupaten ", cityLevel, "kabupaten"}, {"kecamatan ", 3, ""},
}

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

// splitPrefix returns the kind of place key's administrative prefix of
// level says ("kota", "kabupaten", or "" for none) and key (a fullKey)
// without that prefix.
func splitPrefix(key string, level int) (kind, rest string) {
	for _, p := range adminPrefixes {
		if rest, ok := strings.CutPrefix(key, p.prefix); ok && rest != "" && p.level == level {
			return p.kind, rest
		}
	}
	return "", key
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

// list returns Flip's list of the places of key's level within its
// parent: from memory, from the run's cache, or from Flip (fetch). l.mu is
// held.
func (l *Locations) list(ctx context.Context, key listKey) (*placeList, error) {
	if list, ok := l.lists[key]; ok {
		return list, nil
	}
	if l.db != nil {
		places, ok, err := l.db.cachedLocations(ctx, levelNames[key.level][0], key.parent)
		if err != nil {
			return nil, fmt.Errorf("reading the run's %s: %w", levelNames[key.level][1], err)
		}
		if ok {
			list := &placeList{level: key.level, places: places, matched: map[string]matchResult{}}
			l.lists[key] = list
			return list, nil
		}
	}
	return l.fetch(ctx, key)
}

// fetch asks Flip for the list of key's level within its parent, keeps it
// in the run in place of the one there, and in memory in place of the one
// read. l.mu is held.
func (l *Locations) fetch(ctx context.Context, key listKey) (*placeList, error) {
	if l.flip == nil {
		return nil, errors.New("fleet: resolving locations needs Flip's secret key")
	}
	var places []flipkyc.Location
	var err error
	switch key.level {
	case 0:
		places, err = l.flip.ListCountries(ctx)
	case 1:
		places, err = l.flip.ListProvinces(ctx, key.parent)
	case 2:
		places, err = l.flip.ListCities(ctx, key.parent)
	default:
		places, err = l.flip.ListDistricts(ctx, key.parent)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up Flip's %s: %w", levelNames[key.level][1], err)
	}
	if l.db != nil {
		if err := l.db.cacheLocations(ctx, levelNames[key.level][0], key.parent, places); err != nil {
			return nil, fmt.Errorf("keeping Flip's %s in the run: %w", levelNames[key.level][1], err)
		}
	}
	list := &placeList{level: key.level, places: places, matched: map[string]matchResult{}}
	l.lists[key] = list
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

// cacheLocations keeps Flip's list of kind within parent in the run, in
// place of the one kept there, with a mark that the whole list is there
// (an empty list too) and when it was asked.
func (d *DB) cacheLocations(ctx context.Context, kind string, parent int64, list []flipkyc.Location) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := d.exec(ctx, tx, "DELETE FROM fleet_locations WHERE kind = ? AND parent_id = ?", kind, parent); err != nil {
			return err
		}
		for _, loc := range list {
			if _, err := d.exec(ctx, tx, "INSERT INTO fleet_locations (kind, parent_id, id, name) VALUES (?, ?, ?, ?) ON CONFLICT (kind, parent_id, id) DO UPDATE SET name = excluded.name",
				kind, parent, loc.ID, loc.Name); err != nil {
				return err
			}
		}
		_, err := d.exec(ctx, tx, "INSERT INTO fleet_location_lists (kind, parent_id, fetched_at) VALUES (?, ?, ?) ON CONFLICT (kind, parent_id) DO UPDATE SET fetched_at = excluded.fetched_at",
			kind, parent, nowMillis())
		return err
	})
}
