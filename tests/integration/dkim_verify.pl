#!/usr/bin/perl
# dkim_verify.pl: verify a message's DKIM signatures with Mail::DKIM, independently of
# milter-dkim, against a DNS server at ADDR@PORT (the harness's validating unbound).
#
# usage: dkim_verify.pl ADDR@PORT [MIN_RSA_SIGS] < message
# Prints one line per signature. Exit 0 when at least MIN_RSA_SIGS (default 1) rsa-sha256
# signatures are present and every rsa-sha256 signature passes; 1 otherwise. Ed25519
# signatures are reported but not required (Debian 12's Mail::DKIM needs CryptX for them).
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS;

my ($server, $want) = @ARGV;
die "usage: $0 ADDR\@PORT [MIN_RSA_SIGS]\n" unless defined $server && $server =~ /^(.+)\@(\d+)$/;
my ($addr, $port) = ($1, $2);
$want = 1 unless defined $want;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => [$addr], port => $port,
	udp_timeout => 3, retry => 1));
my $v = Mail::DKIM::Verifier->new;
while (<STDIN>) {
	s/\r?\n\z/\r\n/;    # Mail::DKIM wants CRLF
	$v->PRINT($_);
}
$v->CLOSE;
my ($rsa, $ok) = (0, 1);
for my $sig ($v->signatures) {
	my $alg = $sig->algorithm // '?';
	my $res = $sig->result // 'none';
	printf "Mail::DKIM: d=%s s=%s a=%s: %s%s\n", $sig->domain // '?', $sig->selector // '?',
		$alg, $res, $sig->result_detail ? " (" . $sig->result_detail . ")" : '';
	next unless $alg eq 'rsa-sha256';
	$rsa++;
	$ok = 0 unless $res eq 'pass';
}
if ($rsa < $want) {
	print "Mail::DKIM: $rsa rsa-sha256 signature(s), want at least $want\n";
	$ok = 0;
}
exit($ok ? 0 : 1);
