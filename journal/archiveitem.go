package journal

import "time"

// ArchiveItem is cold state that an FSM moved out of memory and the journal keeps on disk.
type ArchiveItem struct {
	Key  string    // unique in the archive, e.g. "INC-42"; an item stored again under the same key replaces it
	Time time.Time // when it was archived; it ages out ArchiveRetention later
	Data []byte
}

// Archiver is implemented by FSMs that move finished state out of memory.
type Archiver interface {
	// TakeArchive returns what the records applied since the last call moved
	// out of the state, and forgets it. Called on the goroutine that applies.
	TakeArchive() []ArchiveItem
}
