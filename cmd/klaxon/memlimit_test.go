package main

import (
	"os"
	"runtime/debug"
	"testing"
	"testing/fstest"
)

func TestCgroupMemoryLimit(t *testing.T) {
	v1NoLimit := "9223372036854771712\n"
	for _, tc := range []struct {
		name    string
		files   map[string]string
		self    string
		want    int64
		wantErr bool
	}{
		{name: "v2 limit", self: "0::/system.slice/klaxon.service\n",
			files: map[string]string{"system.slice/klaxon.service/memory.max": "536870912\n"}, want: 512 << 20},
		{name: "v2 max", self: "0::/system.slice/klaxon.service\n",
			files: map[string]string{"system.slice/klaxon.service/memory.max": "max\n"}},
		{name: "v2 namespaced container reads the top", self: "0::/\n",
			files: map[string]string{"memory.max": "1073741824\n"}, want: 1 << 30},
		{name: "v2 path not visible, top holds the limit", self: "0::/../other\n",
			files: map[string]string{"memory.max": "1073741824\n"}, want: 1 << 30},
		{name: "hybrid: v2 under unified", self: "0::/user.slice\n",
			files: map[string]string{"unified/user.slice/memory.max": "268435456"}, want: 256 << 20},
		{name: "v1 limit", self: "5:cpuacct,cpu:/x\n4:memory:/docker/abc\n0::/\n",
			files: map[string]string{"memory/docker/abc/memory.limit_in_bytes": "314572800\n"}, want: 300 << 20},
		{name: "v1 no limit", self: "4:memory:/docker/abc\n",
			files: map[string]string{"memory/docker/abc/memory.limit_in_bytes": v1NoLimit}},
		{name: "no cgroup files", self: "0::/\n", files: map[string]string{}},
		{name: "garbage limit", self: "0::/a\n",
			files: map[string]string{"a/memory.max": "lots\n"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fstest.MapFS{}
			for name, data := range tc.files {
				root[name] = &fstest.MapFile{Data: []byte(data)}
			}
			got, err := cgroupMemoryLimit(root, []byte(tc.self))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("limit = %d, want %d", got, tc.want)
			}
		})
	}
}

// Recovery runs with GOGC at recoveryGCPercent and puts the previous value
// back, unless GOGC is set, which is left alone.
func TestRelaxGCForRecovery(t *testing.T) {
	tests := []struct {
		name, env  string
		set        bool
		wantDuring int
	}{
		{"GOGC unset", "", false, recoveryGCPercent},
		{"GOGC set", "50", true, 73},
		{"GOGC off", "off", true, 73},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.set {
				t.Setenv("GOGC", tc.env)
			} else {
				t.Setenv("GOGC", "")
				os.Unsetenv("GOGC")
			}
			prev := debug.SetGCPercent(73) // what the process started with
			defer debug.SetGCPercent(prev)
			restore := relaxGCForRecovery()
			during := debug.SetGCPercent(-1)
			debug.SetGCPercent(during)
			restore()
			after := debug.SetGCPercent(prev)
			if during != tc.wantDuring || after != 73 {
				t.Errorf("GOGC %d during recovery and %d after, want %d and 73", during, after, tc.wantDuring)
			}
		})
	}
}
