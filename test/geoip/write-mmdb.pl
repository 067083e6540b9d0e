#!/usr/bin/perl
# Writes a MaxMind DB file with MaxMind's own writer (Debian: libmaxmind-db-writer-perl) from a JSON
# description on stdin: { "ip_version": 6, "record_size": 28, "database_type": "GeoLite2-Country",
# "alias": 1, "networks": [["2.16.0.0/13", {"country": {"iso_code": "DE"}}], ...] }. Usage: write-mmdb.pl OUT
use strict;
use warnings;
use JSON::PP;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: write-mmdb.pl OUT < description.json\n";
local $/;
my $spec = JSON::PP->new->decode(<STDIN>);

# The writer needs a type for every map key; these are the GeoLite2 / IPinfo layouts' types.
my %types = (
  country => 'map', registered_country => 'map', represented_country => 'map', continent => 'map',
  iso_code => 'utf8_string', code => 'utf8_string', geoname_id => 'uint32', names => 'map',
  en => 'utf8_string', de => 'utf8_string', is_in_european_union => 'boolean',
  country_code => 'utf8_string', country_name => 'utf8_string', asn => 'utf8_string',
  autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string',
);
my $spec_types = $spec->{types} || {};
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version            => $spec->{ip_version} // 6,
  record_size           => $spec->{record_size} // 28,
  database_type         => $spec->{database_type} // 'GeoLite2-Country',
  languages             => ['en'],
  description           => { en => 'sipwarden test database' },
  map_key_type_callback => sub { $spec_types->{ $_[0] } // $types{ $_[0] } },
  alias_ipv6_to_ipv4    => $spec->{alias} // 0,
  remove_reserved_networks => 0,
);
for my $n (@{ $spec->{networks} }) {
  $tree->insert_network($n->[0], $n->[1]);
}
open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot close $out: $!\n";
