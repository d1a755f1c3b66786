"""Multilingual vocabularies (English, German, Ukrainian, Russian) for report extraction.

Each vocabulary maps a canonical label to phrases in the pattern language of
:class:`deconflict.extract._text.Lexicon` (``stem``, ``=exact``, ``*contains``). Stems are
chosen to cover the inflections of each language (``уламк`` → уламки, уламків, уламками)
and machine-translated variants ("Schahed", "Kinschal").
"""

from __future__ import annotations

from deconflict.extract._text import Lexicon

__all__ = [
    "ATTACK",
    "BEFORE_AFTER",
    "BUILDING",
    "CASUALTY",
    "CLAIM",
    "COORDINATES",
    "DAMAGE",
    "DIPLOMATIC",
    "DISTRICT_WORDS",
    "ENVOY",
    "FOLLOWED",
    "INSTITUTIONS",
    "NEGATION",
    "OFFICIAL",
    "ORDINALS",
    "OWN",
    "PERSON_WORDS",
    "RECIPIENT_MARK",
    "SERIES",
    "SITE_KINDS",
    "TITLES",
    "TRANSFER",
    "WE",
    "WEAPONS",
    "WEAPON_KIND",
    "WEAPON_REGEX",
]

#: Canonical weapon → incident kind (the ``kind`` column of incidents).
WEAPON_KIND: dict[str, str] = {
    "Shahed": "drone",
    "drone": "drone",
    "Iskander": "missile",
    "Kinzhal": "missile",
    "Zircon": "missile",
    "Kalibr": "missile",
    "Kh-101": "missile",
    "ballistic missile": "missile",
    "cruise missile": "missile",
    "missile": "missile",
    "glide bomb": "bomb",
    "artillery": "artillery",
    "debris": "debris",
}

#: Generic weapon labels dropped when a more specific one of the same kind is present.
GENERIC_WEAPONS: dict[str, frozenset[str]] = {
    "drone": frozenset({"Shahed"}),
    "missile": frozenset({"Iskander", "Kinzhal", "Zircon", "Kalibr", "Kh-101", "ballistic missile", "cruise missile"}),
}

WEAPONS = Lexicon(
    {
        "Shahed": ["shahed", "schahed", "шахед", "шахєд", "geran", "геран"],
        "drone": ["drone", "*drohne", "дрон", "безпілотн", "беспилотн", "=бпла", "=бпла",
                  "=uav", "=uavs", "ударн бпла", "kamikaze"],
        "Iskander": ["iskander", "іскандер", "искандер"],
        "Kinzhal": ["kinzhal", "kinschal", "kindschal", "кинджал", "кинжал"],
        "Zircon": ["zircon", "zirkon", "tsirkon", "циркон"],
        "Kalibr": ["kalibr", "калібр", "калибр"],
        "ballistic missile": ["ballist", "балістичн", "баллистическ"],
        "cruise missile": ["cruise missile", "*marschflugkörper", "крилат", "крылат"],
        "missile": ["missile", "rocket", "*rakete", "ракет", "=ракета"],
        "glide bomb": ["glide bomb", "*gleitbombe", "=каб", "керован авіабомб", "авіабомб",
                       "управляем авиабомб", "авиабомб"],
        "artillery": ["artiller", "артилер", "артиллер", "shelling"],
        "debris": ["debris", "*trümmer", "*wrackteil", "уламк", "уламок", "обломк", "обломок",
                   "fragment", "falling parts"],
        # "Rakete" inside "Raketenabwehr" (air defence) is not a weapon used against the site.
        "_air_defence": ["*raketenabwehr", "*flugabwehr", "ппо", "=ппо", "air defen"],
    }
)  # fmt: skip

#: Weapon names written with digits, which the word tokenizer does not see.
WEAPON_REGEX: dict[str, str] = {"Kh-101": r"\b(?:Kh|Ch|Х)[-‑ ]?(?:101|555)\b"}

ATTACK = Lexicon(
    {
        "attack": ["attack", "strike", "struck", "=hit", "=hits", "shelling", "bombard",
                   "barrage", "*angriff", "angegriffen", "beschuss", "beschossen", "einschlag",
                   "*attacke", "атак", "=удар", "=удару", "=удари", "=ударів", "ударил",
                   "ударив", "обстріл", "обстрел", "влучан", "влучил", "попадан",
                   "атакува", "атакова", "прилет", "приліт", "прильот", "pounded", "=pound",
                   "explod", "explosion", "blast", "*explosion", "explodiert", "вибух", "взрыв",
                   "взорва", "detonat", "*einschläg", "=ударом", "=ударами", "=удара", "=ударах",
                   "*angriffe", "angriffen", "=griff", "=griffen", "=attacked", "=attacks", "=атакувал",
                   "обстрілял", "обстрелял", "=strikes", "=striking"],
        "_other": ["ударн", "*angriffskrieg", "strike force", "*streik", "hunger strike"],
    }
)  # fmt: skip

DAMAGE = Lexicon(
    {
        "damage": ["damag", "destroy", "=hit", "struck", "shatter", "blown", "=fire", "burn",
                   "collaps", "=fires", "brannt", "beschädig", "zerstör", "getroffen", "=schaden", "=schäden",
                   "*schäden", "brand", "zerborst", "eingestürzt", "пошкодж", "зруйн", "вибит",
                   "пожеж", "загор", "влучил", "влучан", "уражен", "поврежд", "повред", "разруш",
                   "пошкод", "пострада", "постражда",
                   "выбит", "пожар", "попал", "попадан", "поражен", "hit by"],
        "undamaged": ["undamag", "unharm", "intact", "unbeschädigt", "unversehrt",
                       "неушкодж", "неповрежд", "уцел", "вцілі"],
    }
)  # fmt: skip

CASUALTY = Lexicon(
    {
        "casualties": ["killed", "injur", "wound", "=dead", "=died", "casualt", "getötet",
                       "=tote", "=toten", "verletzt", "verwundet", "ums leben", "загин",
                       "загибл", "поранен", "постраждалих", "травмован", "погиб", "ранен",
                       "пострадавш", "=убит", "=убиты", "=hurt", "поранення", "=ранены", "=ранено"],
        # "Посольство постраждало" is damage; "двоє людей постраждали" casualties: it depends on who.
        "affected": ["постраждал", "пострадал"],
    }
)  # fmt: skip

#: Words for people: an "affected" phrase near one of them is a casualty.
PERSON_WORDS = Lexicon(
    {
        "person": ["people", "person", "civilian", "resident", "employee", "staff", "diplomat", "child",
                   "menschen", "person", "zivilist", "bewohner", "mitarbeiter", "kind", "людей", "людин",
                   "люди", "осіб", "особ", "мешкан", "жител", "цивільн", "мирн", "дітей", "дитин", "детей",
                   "ребен", "працівник", "сотрудник", "співробітник", "дипломат", "человек", "жінк",
                   "женщин", "чоловік", "мужчин", "=двоє", "=троє", "=четверо", "=п'ятеро", "=двое",
                   "=трое", "=четверо", "=пятеро", "=ніхто", "=никто"],
    }
)  # fmt: skip

#: Negation words; a damage or casualty phrase after one of these (same clause) is negated.
NEGATION = Lexicon(
    {
        "negation": ["=not", "=no", "=none", "=nobody", "=without", "=neither", "=nor", "=never",
                     "=nicht", "=kein", "=keine", "=keinen", "=keiner", "=ohne", "=niemand",
                     "=не", "=ні", "=без", "жодн", "=нет", "=немає", "=нема", "=никто", "=ничего", "=нічого",
                     "=ніхто"],
    }
)  # fmt: skip

#: Site kind vocabulary: label = a site kind of :data:`deconflict.model.SITE_KINDS`, or
#: ``diplomatic`` for words that name any diplomatic premises.
SITE_KINDS = Lexicon(
    {
        "embassy": ["embass", "botschaft", "посольств"],
        "consular_section": ["consular section", "consular department", "consular office",
                             "*konsularabteilung", "konsularisch abteilung",
                             "консульськ відділ", "консульск отдел", "консульськ секці"],
        "consulate": ["consulate", "*konsulat", "консульств", "генконсульств"],
        "cultural_centre": ["cultural cent", "culture cent", "*kulturzentrum",
                            "kulturell zentrum", "культурн центр", "центр культур",
                            "культурно центр"],
        "hospital": ["hospital", "*krankenhaus", "*klinik", "лікарн", "больниц", "клінік",
                     "клиник"],
        "school": ["school", "schule", "школ"],
        "residence": ["residence", "residenz", "резиденц"],
        "humanitarian": ["warehouse", "aid depot", "*lager", "=склад", "складськ", "=склада"],
        "power_plant": ["power plant", "power station", "*kraftwerk", "електростанц",
                        "электростанц", "=тец", "=тэц", "=тес", "=тэс", "=chp"],
        "nunciature": ["nunciatur", "nuntiatur", "нунціатур", "нунциатур"],
        "diplomatic": ["diplomatic mission", "diplomatic premises", "diplomatic build",
                       "*vertretung", "диппредставительств", "дипмісі", "диппредставництв",
                       "дипломатичн місі", "дипломатическ мисси", "дипломатичн установ",
                       "дипломатическ учрежден", "diplomatische vertretung", "mission", "=missions",
                       "дипмісі", "дипмисси", "дипломатичн представництв", "дипломатическ представительств"],
        "_ambassador": ["ambassador", "botschafter", "=посол", "=посла", "=послу", "=послом",
                        "посольськ", "посольск", "ambassadorial"],
    }
)  # fmt: skip

#: The first person plural: in "we gave Russia the coordinates" the sender is the speaker, not a state named.
WE = Lexicon({"we": ["=we", "=wir", "=ми", "=мы", "=our", "=unser", "=unsere", "=unserer", "=unseres", "=наш",
                     "=наше", "=нашого", "=нашої", "=наша", "=наших", "=нашего", "=нашей"]})  # fmt: skip

#: First-person possessives: "our embassy" belongs to the speaker or the sender.
OWN = Lexicon({"own": ["=our", "=its", "=their", "=unser", "=unsere", "=unserer", "=unseres",
                       "=seine", "=seiner", "=ihre", "=ihrer", "=наш", "=наше", "=нашого",
                       "=нашої", "=наша", "=наших", "=свої", "=своє", "=своїх", "=своего",
                       "=свое", "=своих", "=свою", "=свій"]})  # fmt: skip

COORDINATES = Lexicon({"coordinates": ["coordinat", "koordinat", "координат", "geolocat", "location",
                                       "standort", "местоположени", "местонахождени", "місцезнаходжен",
                                       "розташуван", "расположени"]})  # fmt: skip

TRANSFER = Lexicon(
    {
        "transfer": ["=gave", "=give", "=given", "=giving", "hand", "transmit", "=passed",
                     "=pass", "provid", "=shared", "=share", "=sent", "=send", "submit",
                     "notif", "inform", "communicat", "übermittel", "übergeben", "gegeben",
                     "=gab", "=gaben", "mitgeteilt", "weitergegeben", "weitergeleitet",
                     "übersandt", "=teilte", "informiert", "переда", "нада", "повідомив", "повідомила",
                     "повідомили", "повідомило", "повідомлено", "=дали", "предостав", "=сообщил",
                     "=сообщила", "=сообщили", "сообщено", "=дал", "=дав"],
    }
)  # fmt: skip

#: Words that mark the recipient of a transfer ("to", "an", "the Russian side").
RECIPIENT_MARK = Lexicon({"to": ["=to", "=an", "=die", "side", "seite", "сторон", "=до"]})

DIPLOMATIC = Lexicon(
    {
        "protest_note": ["protest note", "note of protest", "note protest", "*protestnote",
                         "нот протест", "=протест", "=протесту", "=протеста", "protest", "protestier"],
        "_protester": ["protester", "protestor", "demonstrant", "протестувальн", "протестующ"],
        "summons": ["summon", "einbestell", "=bestellte", "=bestellten", "einberuf", "einbeordert",
                    "*einzubestellen", "виклика", "викликав", "викликал", "викликан", "виклик", "=вызвал",
                    "=вызвали", "вызван", "вызыва", "=вызов", "=вызова", "=вызове", "викличе", "вызовет",
                    "вызовут", "викличуть"],
        "statement": ["statement", "erklärung", "stellungnahme", "=заява", "=заяву", "=заяви", "заявил",
                      "заявив", "заявлен", "condemn", "verurteil", "засуд", "осуд", "=said", "=says", "=say",
                      "erklärte", "=sagte", "=sagten", "=stated", "declared", "=responded", "=replied",
                      "antwortete", "відповів", "відповіла", "ответил", "ответила", "=wrote", "=writes",
                      "=schrieb", "написав", "написала", "написал", "написали", "зазнач", "наголос",
                      "подчеркн", "=отметил", "=отметила", "=отметили", "sprach von", "=called", "bezeichnet",
                      "=назвав", "=назвала", "=назвал", "=назвали", "told reporters", "tweeted", "posted on",
                      "=told", "mitteilte", "=teilte", "повідомив", "повідомила", "повідомило", "повідомили",
                      "=сообщил", "=сообщила", "=сообщило", "=сообщили", "criticis", "criticiz", "kritik",
                      "kritisiert", "критику", "критикув", "раскритик", "deplor", "=warned", "warnte",
                      "=заявили", "заявило", "=заявила"],
    }
)  # fmt: skip

#: Words naming a state's official voice; a "statement" counts only in their company (or a state's).
OFFICIAL = Lexicon(
    {
        "official": ["ministry", "foreign minist", "ministry of foreign affairs", "foreign affairs ministry",
                     "foreign office", "auswärtig amt", "міністерство закордонних справ",
                     "министерство иностранных дел", "=mfa", "=мзс", "=мид", "*ministerium", "*minister",
                     "міністр", "министр", "міністерств", "министерств", "spokes", "sprecher", "речни",
                     "представител", "представни", "president", "präsident", "президент", "government",
                     "regierung", "уряд", "правительств", "kremlin", "kreml", "кремл", "ambassador",
                     "botschafter", "=посол", "=посла", "=послу", "*außenbeauftragt", "high representative",
                     "foreign policy chief", "chief diplomat", "=глава", "очільни", "presseamt", "press office",
                     "пресс-служб", "пресслужб", "прес-служб", "керівник", "руководител", "chancellor",
                     "kanzler", "канцлер", "prime minister", "premier", "прем'єр", "премьер"],
    }
)  # fmt: skip

#: Words that count strikes ("hit three times"): the sentence tells of a series, not of one strike.
SERIES = Lexicon(
    {
        "series": ["three times", "two times", "twice", "several times", "repeatedly", "=dreimal", "=zweimal",
                   "mehrfach", "mehrmals", "wiederholt", "=тричі", "=двічі", "кілька разів", "неодноразово",
                   "=трижды", "=дважды", "несколько раз", "неоднократно"],
    }
)  # fmt: skip

#: Nouns that make a city name part of a name ("the Vienna Convention", "Munich Security Conference").
INSTITUTIONS = Lexicon(
    {
        "institution": ["convention", "conference", "summit", "format", "agreement", "accord", "protocol",
                        "declaration", "security conference", "process", "konvention", "konferenz",
                        "sicherheitskonferenz", "abkommen", "gipfel", "erklärung", "конвенц", "конференц",
                        "саміт", "саммит", "формат", "угод", "соглашен", "протокол", "безпеков", "безопасност",
                        "declaration", "charter", "charta", "харті", "харти"],
    }
)  # fmt: skip

#: Titles before a person's name ("President Volodymyr Zelenskyy", "речник МЗС Георгій Тихий").
TITLES = Lexicon(
    {
        "title": ["president", "präsident", "президент", "minister", "міністр", "министр", "spokes",
                  "sprecher", "речни", "=представник", "представниц", "=представитель", "=представителя",
                  "mayor", "bürgermeister", "=мер", "=мера",
                  "governor", "gouverneur", "губернатор", "очільни", "archbishop", "erzbischof",
                  "архієпископ", "архиепископ", "=pope", "=papst", "=папа", "ambassador", "botschafter",
                  "=посол", "=посла", "chancellor", "kanzler", "канцлер", "*außenbeauftragt",
                  "high representative", "chief", "=mr", "=mrs", "=ms", "=dr", "=herr", "=frau", "=пан",
                  "=пані", "=господин", "=госпожа", "=глава", "керівник", "руководител", "commander",
                  "kommandeur", "командувач", "командующ", "генерал",
                  "secretary", "sekretär", "секретар"],
    }
)  # fmt: skip

#: Envoys a state summons ("the Russian ambassador", "посла Росії", "den Geschäftsträger").
ENVOY = Lexicon(
    {
        "envoy": ["ambassador", "botschafter", "=посол", "=посла", "=послу", "=послом", "charg", "chargé",
                  "geschäftsträger", "diplomat", "дипломат", "envoy", "повірен", "поверенн", "nuncio",
                  "nuntius", "нунці", "нунци"],
    }
)  # fmt: skip

#: Attribution of a statement to a party ("claimed", "laut", "за словами", "по словам").
CLAIM = Lexicon(
    {
        "claim": ["claim", "alleg", "according", "behaupt", "=laut", "angeblich", "=за словами",
                  "=по словам", "стверджу", "утвержда", "за даними", "по данным", "=nach angaben",
                  "заявил", "заявив", "заявили", "=said", "=says", "behauptete"],
    }
)  # fmt: skip

ORDINALS = Lexicon(
    {
        "1": ["first", "=erste", "=ersten", "=erster", "=ersten", "перш", "=первого", "=первой",
              "=первый", "=первая", "=перший", "=першої"],
        "2": ["second", "=zweite", "=zweiten", "=zweiter", "=другого", "=другий", "=другої",
              "=второго", "=второй", "=второй"],
        "3": ["third", "=dritte", "=dritten", "=третього", "=третій", "=третьего", "=третий"],
    }
)  # fmt: skip

BEFORE_AFTER = Lexicon(
    {
        "after": ["=after", "=following", "=since", "=nach", "=nachdem", "=seit", "=після",
                  "=после", "=потім", "=затем"],
        "before": ["=before", "=prior", "=vor", "=bevor", "=до", "=перед", "=прежде"],
        "between": ["=between", "=zwischen", "=між", "=между"],
    }
)  # fmt: skip

#: Markers that further strikes followed the event just named ("two more hits followed").
FOLLOWED = Lexicon(
    {
        "followed": ["followed", "=more", "=further", "folgten", "gefolgt", "weitere", "=ще",
                     "=еще", "послідува", "последова", "=again", "erneut", "знову", "снова"],
    }
)  # fmt: skip

DISTRICT_WORDS = Lexicon(
    {"district": ["district", "raion", "rayon", "*bezirk", "=район", "=районі", "=района",
                  "=районе", "=районах", "=districts"]}
)  # fmt: skip

#: Words for "the building": a damaged building right after a named site is that site.
BUILDING = Lexicon(
    {"building": ["building", "premises", "*gebäude", "будівл", "будинок", "здани", "приміщен",
                  "помещени"]}
)  # fmt: skip
