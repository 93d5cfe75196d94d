#!/bin/bash
# ferry image check / show on an image written by tests/tools/mkimage, and on damaged copies.
. "$(dirname "$0")/../lib.sh"

MKIMAGE=$TOP/tests/tools/mkimage
[ -x "$MKIMAGE" ] || skip_all "tests/tools/mkimage is not built"
IMG=$T_WORK/img
"$MKIMAGE" "$IMG"
ok $? "mkimage writes an image"

out=$("$FERRY" image check "$IMG" 2>&1)
ok $? "image check accepts a valid image"
is "$out" "image OK: 2 processes, 3 threads, 17 pages" "image check summary"

json=$("$FERRY" image show "$IMG")
ok $? "image show succeeds"
got=$(printf '%s' "$json" | python3 -c 'import json, sys
d = json.load(sys.stdin)
p = d["processes"]
print(d["root_pid"], len(p), [len(x["threads"]) for x in p], p[0]["pages"]["bytes"],
      [f["kind"] for f in p[0]["fds"]], p[1]["vmas"][0]["path"], d["host"]["xsave_mask"])')
is "$got" "42 2 [1, 2] 32768 ['chr', 'file', 'pipe', 'unix', 'epoll', 'deleted'] /bin/sample 0x2e7" \
	"image show prints the tree, pages as byte counts, fds and host facts"

cp -r "$IMG" "$T_WORK/flip"
printf '\x55' | dd of="$T_WORK/flip/mm-42.img" bs=1 seek=30 conv=notrunc status=none
out=$("$FERRY" image check "$T_WORK/flip" 2>&1)
status=$?
ok $((status == 1 ? 0 : 1)) "image check exits 1 on a bit flip"
like "$out" "mm-42.img: checksum mismatch" "the error names the damaged file"

cp -r "$IMG" "$T_WORK/cut"
truncate -s 100 "$T_WORK/cut/files.img"
out=$("$FERRY" image show "$T_WORK/cut" 2>&1)
status=$?
ok $((status == 1 ? 0 : 1)) "image show exits 1 on a truncated image"
like "$out" "files.img: 100 bytes, the inventory says [0-9]+ \(truncated\?\)" \
	"the error names the truncated file"

out=$("$FERRY" image check "$T_WORK/nonexistent" 2>&1)
ok $((($? == 1) ? 0 : 1)) "image check exits 1 on a missing directory"

t_cleanup
done_testing
