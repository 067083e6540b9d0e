#!/usr/bin/perl
# The peer of bench/geoip-lists.mjs: MaxMind's own Perl reader (MaxMind::DB::Reader, backed by libmaxminddb
# through MaxMind::DB::Reader::XS when installed) walking the whole search tree, counting the networks of
# each wanted country as sipwarden's country allow-list does (country.iso_code, else registered_country's).
# Usage: geoip-walk.pl FILE CC[,CC…]; prints one JSON object.
use strict;
use warnings;
use JSON::PP;
use MaxMind::DB::Reader;
use Time::HiRes qw(time);

my ($file, $codes) = @ARGV;
die "usage: geoip-walk.pl FILE CC[,CC…]\n" unless $file && $codes;
my $t0 = time;
my $reader = MaxMind::DB::Reader->new(file => $file);
my %count = map { lc($_) => 0 } split /,/, $codes;
my $total = 0;
$reader->iterate_search_tree(sub {
  my (undef, undef, $data) = @_;
  $total++;
  my $cc = ($data->{country} // $data->{registered_country} // {})->{iso_code};
  $count{ lc $cc }++ if defined $cc && exists $count{ lc $cc };
});
print JSON::PP->new->canonical->encode(
  { reader => ref($reader), networks => $total, countries => \%count, ms => int((time - $t0) * 1000) }
), "\n";
