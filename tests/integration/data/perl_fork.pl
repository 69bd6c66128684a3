# perl: fork, wait and pipes.
my $pid = fork();
if (!$pid) { exit 5 }
waitpid($pid, 0);
print "child exit ", $? >> 8, "\n";
pipe(my $r, my $w) or die;
if (!fork()) { close $r; print $w "through a pipe\n"; exit 0 }
close $w;
print scalar <$r>;
wait;
print "status $?\n";
