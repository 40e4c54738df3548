// Package tz loads time zones from the zone database built into the binary,
// never from the host, so that the same journal gives the same instants on
// every machine whatever its /usr/share/zoneinfo or $ZONEINFO say.
package tz

//go:generate sh -c "cp \"$(go env GOROOT)/lib/time/zoneinfo.zip\" zoneinfo.zip && chmod 0644 zoneinfo.zip"

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// zoneinfoZip is Go's zoneinfo.zip (uncompressed zip of TZif files, one per
// zone name), copied from the toolchain by `go generate ./tz`.
//
//go:embed zoneinfo.zip
var zoneinfoZip []byte

// ErrUnknownZone is returned for a name the embedded database does not hold.
var ErrUnknownZone = errors.New("unknown time zone")

// index maps every zone name in the embedded database to its file.
var index = sync.OnceValues(func() (map[string]*zip.File, error) {
	r, err := zip.NewReader(bytes.NewReader(zoneinfoZip), int64(len(zoneinfoZip)))
	if err != nil {
		return nil, fmt.Errorf("embedded zoneinfo.zip: %w", err)
	}
	m := make(map[string]*zip.File, len(r.File))
	for _, f := range r.File {
		m[f.Name] = f
	}
	return m, nil
})

var (
	mu    sync.Mutex
	cache = map[string]*time.Location{}
)

// Load returns the named IANA zone (such as "Europe/Berlin") from the
// embedded database; "UTC" is time.UTC. "Local" and the empty name are
// refused: they mean the host's zone.
func Load(name string) (*time.Location, error) {
	if name == "UTC" {
		return time.UTC, nil
	}
	mu.Lock()
	defer mu.Unlock()
	if loc, ok := cache[name]; ok {
		return loc, nil
	}
	loc, err := load(name)
	if err != nil {
		return nil, err
	}
	cache[name] = loc
	return loc, nil
}

// load reads and parses one zone from the embedded zip.
func load(name string) (*time.Location, error) {
	files, err := index()
	if err != nil {
		return nil, err
	}
	f, ok := files[name]
	if !ok || name == "" || name == "Local" {
		return nil, fmt.Errorf("%w %q", ErrUnknownZone, name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("zone %q: %w", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("zone %q: %w", name, err)
	}
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, fmt.Errorf("zone %q: %w", name, err)
	}
	return loc, nil
}
