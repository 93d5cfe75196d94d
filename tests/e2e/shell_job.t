#!/bin/bash
# A text editor as a shell job, checkpointed and restored with --shell-job in another terminal:
# the restored editor gets the terminal settings it had (raw, no echo) and the terminal's
# foreground, takes keys at once and the size of the restoring terminal; Ctrl-Z stops it and gives
# the shell its terminal, `fg` brings it back; it saves its file; then the shell gets its terminal
# back in the settings it had before the restore.
. "$(dirname "$0")/../lib.sh"

command -v tmux >/dev/null || skip_all "tmux is not installed"
command -v vim >/dev/null || skip_all "vim is not installed"

S=ferry-shell-job-$$
X=$T_WORK/x.txt
D=$T_WORK/vim.img
tm() { tmux -L "$S" "$@"; }
at_exit "tmux -L $S kill-server"
# screen WINDOW REGEX: the window's screen matches REGEX.
screen() { tm capture-pane -p -t "$([ "$1" = rst ] && echo "$R" || echo "$S:$1")" | grep -Eq -- "$2"; }

tm -f /dev/null new-session -d -s "$S" -x 100 -y 30 -n job "bash --norc --noprofile" ||
	skip_all "tmux cannot start"
# The restoring terminal is another session, of another size than the one vim was dumped on.
tm new-session -d -s "${S}r" -x 120 -y 40 -n rst "bash --norc --noprofile"
R=${S}r:rst
wait_for screen job '\$ ?$'
shell=$(tm display -p -t "$S:job" '#{pane_pid}')
tm send-keys -t "$S:job" "vim -u NONE -N $X" Enter
wait_for sh -c "pgrep -P $shell -x vim"
VIM=$(pgrep -P "$shell" -x vim)
ok $? "vim runs as a job of the first terminal"
wait_for screen job 'x.txt'
tm send-keys -t "$S:job" "ihello from before" Escape
wait_for screen job 'hello from before'
ok $? "vim shows the text typed"

"$FERRY" process checkpoint --shell-job --pid "$VIM" --image-path "$D"
ok $? "checkpoint --shell-job of vim"
wait_for sh -c "! test -e /proc/$VIM"
ok $? "vim is gone after the checkpoint"
flags=$("$FERRY" image show "$D" | json_get 'd["processes"][0]["fds"][0].get("termios", {}).get("lflag", "")')
[ -n "$flags" ]
ok $? "the image records the terminal settings of fd 0 ($flags)"
lflag=$((flags))
is "$((lflag & 2))" 0 "they are vim's raw settings (no ICANON)"

tm send-keys -t "$R" "stty -g >$T_WORK/stty.before" Enter
tm send-keys -t "$R" "$FERRY process restore --shell-job --image-path $D" Enter
wait_for sh -c "pgrep -x vim | grep -qx $VIM"
ok $? "vim is restored with its pid"
pty=$(tm display -p -t "$R" '#{pane_tty}')
wait_for sh -c "stty -a -F $pty | grep -q -- ' -icanon '"
ok $? "the restoring terminal gets vim's settings: no canonical mode"
like "$(stty -a -F "$pty")" ' -echo ' "and no echo"
wait_for sh -c "ps -o tpgid= -p $VIM | grep -qx ' *$VIM'"
ok $? "vim's process group is the terminal's foreground group"
# vim takes the new size when it handles its SIGWINCH: ask until it answers with it.
sized() {
	tm send-keys -t "$R" ":echo &lines &columns" Enter
	sleep 0.2
	screen rst '^40 120'
}
wait_for sized
ok $? "vim takes the size of the restoring terminal (40 x 120, dumped on 30 x 100)"
tm send-keys -t "$R" C-z
wait_for screen rst 'Stopped'
ok $? "Ctrl-Z stops the restored job and gives the shell its terminal"
rshell=$(tm display -p -t "$R" '#{pane_pid}')
wait_for sh -c "ps -o tpgid= -p $rshell | grep -qx ' *$rshell'"
ok $? "the shell is the terminal's foreground while the job is stopped"
tm send-keys -t "$R" "fg" Enter
wait_for sh -c "ps -o tpgid= -p $VIM | grep -qx ' *$VIM'"
ok $? "fg gives vim the terminal again"
tm send-keys -t "$R" "A more" Escape ":wq" Enter
wait_for sh -c "ps -o tpgid= -p $rshell | grep -qx ' *$rshell'"
tm send-keys -t "$R" "echo RC=\$?; stty -a >$T_WORK/stty.after" Enter
wait_for screen rst 'RC=0'
ok $? "the restored vim exits 0 and ferry returns"
is "$(cat "$X" 2>/dev/null)" "hello from before more" "vim saved the text from before and the keys typed after the restore"
wait_for test -s "$T_WORK/stty.after"
like "$(cat "$T_WORK/stty.after")" '(^|[ ;])icanon( |$)' "the shell's terminal is back in canonical mode"
like "$(cat "$T_WORK/stty.after")" '(^|[ ;])echo( |$)' "the shell's terminal echoes again"
tm send-keys -t "$R" "echo usable-\$((6*7))" Enter
wait_for screen rst 'usable-42'
ok $? "the shell prompt takes commands again"
done_testing
