package ingest

import (
	"reflect"

	"github.com/klaxonhq/klaxon/signal"
)

// wireKV is a JSON object of strings in a payload: an alert's labels or
// annotations, decoded as the journal decodes them.
type wireKV = signal.Strings

// stringType is the type named in errors about a value that should be a
// JSON string.
var stringType = reflect.TypeFor[string]()
