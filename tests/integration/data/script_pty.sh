# script(1) (util-linux) makes a pty for a shell: it opens /dev/ptmx, puts
# its own terminal aside and runs the command as a session leader on the
# slave. What that shell sees of its terminal, with the pty's number
# masked; script passes the command's exit status on (-e).
script -qec '
  tty
  ps -o tty=,comm=
  stty -a | head -3
  printf "a\tb\n"
  exit 3' /dev/null | sed 's|pts/[0-9]*|pts/N|'
echo "script exit: ${PIPESTATUS[0]}"
