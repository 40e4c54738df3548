package statuspage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Export writes site's outputs into dir, replacing what was there in one
// step: the files are written and synced into a new directory beside dir,
// which then takes dir's place, so a reader sees the old outputs or the
// new ones, never a mix or a half-written file.
func Export(site *Site, dir string) error {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("status page export: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return fmt.Errorf("status page export: %w", err)
	}
	defer os.RemoveAll(tmp) // after a swap it holds the old outputs
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("status page export: %w", err)
	}
	if err := writeTree(site, tmp); err != nil {
		return fmt.Errorf("status page export: %w", err)
	}
	if err := swapDir(tmp, dir); err != nil {
		return fmt.Errorf("status page export to %s: %w", dir, err)
	}
	return syncDir(parent)
}

// writeTree writes every output below root and syncs files and directories.
func writeTree(site *Site, root string) error {
	dirs := map[string]bool{root: true}
	for _, p := range Paths {
		f := site.Files[p]
		if f == nil {
			continue
		}
		name := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		dirs[filepath.Dir(name)] = true
		if err := writeFile(name, f.Body); err != nil {
			return err
		}
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(name string, body []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func syncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return nil
}

// swapDir puts the directory tmp in dir's place; dir's old contents end
// up at tmp.
func swapDir(tmp, dir string) error {
	_, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	if err != nil {
		return err
	}
	return exchange(tmp, dir)
}
