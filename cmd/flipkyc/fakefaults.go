package main

import (
	"strconv"
	"strings"

	"github.com/flipkyc/flipkyc/flipkyctest"
)

// fakeRoutes names the fake's routes for --fail.
var fakeRoutes = map[string]flipkyctest.Route{
	"create": flipkyctest.RouteCreateAgent, "update": flipkyctest.RouteUpdateAgent, "get": flipkyctest.RouteGetAgent,
	"upload": flipkyctest.RouteUploadImage, "documents": flipkyctest.RouteDocuments, "submit": flipkyctest.RouteSubmit,
	"repair": flipkyctest.RouteRepairData, "repair-photo": flipkyctest.RouteRepairPhoto, "repair-selfie": flipkyctest.RouteRepairSelfie,
	"countries": flipkyctest.RouteCountries, "provinces": flipkyctest.RouteProvinces, "cities": flipkyctest.RouteCities,
	"districts": flipkyctest.RouteDistricts,
}

// fakeFault is one --fail: the next request of a route fails, before or
// after the fake applies it.
type fakeFault struct {
	route   flipkyctest.Route
	status  int // 0: the connection is dropped
	applied bool
}

// parseFakeFault reads ROUTE:STATUS or ROUTE:drop, with :applied after
// either.
func parseFakeFault(v string) (fakeFault, error) {
	parts := strings.Split(v, ":")
	bad := usagef("--fail %q: want ROUTE:STATUS or ROUTE:drop, optionally followed by :applied (ROUTE is one of %s)", v, routeNames())
	if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "applied") {
		return fakeFault{}, bad
	}
	route, ok := fakeRoutes[parts[0]]
	if !ok {
		return fakeFault{}, bad
	}
	f := fakeFault{route: route, applied: len(parts) == 3}
	if parts[1] != "drop" {
		n, err := strconv.Atoi(parts[1])
		if err != nil || n < 400 || n > 599 {
			return fakeFault{}, usagef("--fail %q: the status must be from 400 to 599, or drop", v)
		}
		f.status = n
	}
	return f, nil
}

// routeNames lists the names --fail takes.
func routeNames() string {
	return "create, update, get, upload, documents, submit, repair, repair-photo, repair-selfie, countries, provinces, cities, districts"
}

// apply queues the fault on srv.
func (f fakeFault) apply(srv *flipkyctest.Server) {
	switch {
	case f.status == 0 && f.applied:
		srv.DropNextAfterApplying(f.route, 1)
	case f.status == 0:
		srv.DropNext(f.route, 1)
	case f.applied:
		srv.FailNextAfterApplying(f.route, 1, f.status)
	default:
		srv.FailNext(f.route, 1, f.status)
	}
}
