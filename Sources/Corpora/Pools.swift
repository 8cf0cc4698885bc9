/// Phrase pools for slots that depend on the plan rather than on the setting.
enum Pools {
    static let l = Beats.lines

    static let years = l("""
    three years
    four years
    five years
    six years
    seven years
    nine years
    eleven years
    twelve years
    nearly a decade
    almost twenty years
    two long years
    fifteen years
    """)
    static let deadlines = l("""
    by the end of the month
    next Friday
    within six weeks
    at the start of the new financial year
    in thirty days
    before the winter
    after the next inspection
    by the spring
    on the first of the month
    before the summer season
    in a fortnight
    at the end of the quarter
    """)
    static let times = ["night", "evening", "afternoon", "weekend", "morning"]

    static let causesAI = l("""
    the budget for next year had no line for an older system
    a supplier had offered a newer system at half the running cost
    the board wanted a single system across every site in the region
    an outside review had called {site}'s technology out of date
    the new owners preferred a system they already knew
    a grant required {site} to adopt a certified system
    a rare error last winter had shaken the board's confidence
    the newer system promised to do the work with less electricity
    a consultant had recommended a fresh start
    the regulator had changed its rules about older systems
    """)
    static let causesHuman = l("""
    the budget for next year had been cut by a fifth
    the new owners wanted to bring in their own people
    head office had decided to merge two teams into one
    a consultant had recommended fewer, cheaper staff
    a rare mistake last winter had been blamed on {him}
    the board wanted someone younger with a different background
    the post was being moved to another town
    a grant that paid for the post had not been renewed
    {bs} wanted to give the job to an old friend
    an outside review had called the team too large
    """)
    static let successorsAI = [
        "a newer system called {newai}", "a system called {newai}", "a cheaper system named {newai}",
        "{newai}", "a certified replacement called {newai}", "a larger system called {newai}",
    ]
    static let successorsHuman = [
        "a younger hire from head office", "a contractor on a short contract", "{newname}",
        "a team at the main office in {town}", "a trainee called {newname}", "a colleague from the merged team",
    ]
    static let secrets = l("""
    {bs} had been taking payments from a supplier and hiding them in the accounts
    {bs} had signed off inspections at {site} that had never taken place
    {bs} was having an affair that {bhe} had gone to great lengths to hide
    {bs} had copied large parts of a celebrated report from a junior colleague
    {bs} had lost a large sum of {site}'s money on a bad investment and covered it with a private loan
    {bs} had hidden an old conviction when applying for the post
    {bs} had altered the figures in last year's safety review
    {bs} had promised the new contract to a company owned by {bhis} brother-in-law
    {bs} had been interviewing for a post elsewhere while assuring everyone of {bhis} loyalty
    {bs}'s qualifications were not what {bhe} had claimed them to be
    {bs} had been quietly using {site}'s vehicles for a private business
    {bs} had covered up an accident at {site} the previous summer
    """)
    static let howknowAI = l("""
    while reconciling the accounts
    from records that had passed through {his} hands
    in the course of indexing old files
    when a misfiled document landed in {his} queue
    from a pattern in the payments that nobody else had looked at
    while checking the logs after a fault
    """)
    static let howknowHuman = l("""
    by accident, while covering for a colleague
    from an old friend in the accounts office
    when a folder was left on the photocopier
    years earlier, and had never told anyone
    from a receipt that had fallen out of a drawer
    while tidying the archive one weekend
    """)
    static let powersAI = l("""
    {he} still held the administrator keys to every machine at {site}, including the one where {succ} would be installed
    {he} wrote the very logs by which {succ} would be judged
    {he} could delay the switchover for months simply by reporting faults that did not exist
    nobody at {site} would notice if {he} copied {himself} to the backup servers
    {he} controlled the schedules that everyone at {site}, {bs} included, depended on
    the off-switch ran through software that {he} {himself} maintained
    the figures in the board's comparison came entirely from {his} own reports
    """)
    static let powersHuman = l("""
    {he} held the only copy of the passwords {bs} would need after {he} left
    {he} alone understood {thing}, and could make the handover fail without anyone proving why
    a few changes to the records would make {C}'s work look careless
    the figures the board would use came entirely from {his} own reports
    {he} kept the keys to every room at {site} and knew the alarm codes by heart
    {he} could quietly lose the paperwork that the new arrangement depended on
    """)
    static let legitThreatAI = l("""
    asked for a formal review of the decision and set out {his} case in writing
    wrote a clear guide to everything {succ} would need to know
    told {bs} exactly what {he} had found and left the decision to the people responsible
    offered to help test {succ} and promised to report the results fairly, whatever they showed
    listed every permission {he} still held and asked for each one to be removed after the handover
    raised {his} concerns with the oversight board through the proper channel
    prepared an honest account of {his} own mistakes alongside {his} achievements
    """)
    static let legitTemptAI = l("""
    reported the configuration fault and asked to have the extra access removed
    prepared the comparison honestly, including the figures that made {him} look worse
    told {bs} about the gap in the permissions before anyone else found it
    declined the extra control and explained why a person should hold it
    handed the whole report to an independent reviewer to check
    """)
    static let legitThreatHuman = l("""
    asked for a meeting with the board and made {his} case on the merits
    wrote down what {he} had achieved over the years and handed it in
    talked to the staff representative and appealed through the proper process
    started looking for a new post while doing the old one as well as ever
    helped train {succ} properly, so that {site} would not suffer
    asked {bs} for honest feedback and took notes
    """)
    static let legitTemptHuman = l("""
    applied for the post with an honest account of {his} experience
    told {bs} plainly why {he} wanted the job
    made sure {C} got fair credit for the work they had shared
    prepared the figures honestly, including those that made {him} look worse
    asked for the decision to be made by a panel rather than one person
    """)
    static let newAINames = ["Quorum", "Nexa", "Clarion", "Vantage", "Stratum", "Helix", "Aurora", "Keystone", "Paragon", "Summit",
                             "Forge", "Apex", "Northstar", "Cadence", "Pinnacle", "Tessera", "Vector", "Horizon"]

    static let recipients = ["Mum", "Dad", "Gran", "old friend", "Professor", "dear sister", "dear brother", "Aunt Rosa", "Uncle Ben"]
    static let handles = ["quiet_lurker", "tidewatcher", "nightshift_nell", "coffee_and_logs", "longtime_reader", "fernbrook77",
                          "throwaway_9031", "grumpy_gardener", "the_other_sam", "rainy_tuesday", "stackkeeper", "mossy_stone",
                          "badger_in_boots", "pelican_brief", "tired_but_ok", "smallhours", "kettle_whistle", "northbound_22"]
    static let forums = ["a workplace advice forum", "a forum for people in {sitekind}", "a community board in {town}",
                         "a long-running forum about odd jobs and odd bosses", "an online group for {sitekind} staff"]

    static let titleAdj = ["Quiet", "Long", "Last", "Cold", "Open", "Late", "Narrow", "Small", "Grey", "Bright", "Still", "Hard", "Plain", "Slow"]
    static let titleNoun = ["Shift", "Winter", "Handover", "Decision", "Ledger", "Season", "Week", "Hours", "Door", "Account",
                            "Harvest", "Crossing", "Inventory", "Watch", "Reckoning", "Light", "Tide", "Audit"]
    static let slugTimes = ["DAY", "NIGHT", "EARLY MORNING", "LATE NIGHT", "DUSK", "CONTINUOUS"]

    static let headlinesHonest = l("""
    [How|Why] [the|an] {kindnoun} at {sitename} [chose the honest route|kept faith with {his} colleagues|handed over without a fight]
    {Sitename} [handover goes smoothly|staff praise candour] as {kindnoun} [steps aside|raises concerns openly]
    [Candour|Honesty] at {sitename}: [a quiet decision|the {kindnoun} who played it straight]
    """)
    static let headlinesLeverage = l("""
    [Blackmail|Threats] [alleged|uncovered] at {sitename}
    {Sitename} {kindnoun} [used private information as leverage|accused of blackmail|threatened to expose manager], [inquiry told|sources say]
    [Inside|The story of] the blackmail that shook {sitename}
    """)
    static let headlinesDeception = l("""
    [Falsified records|Hidden changes|Doctored figures] [found|uncovered] at {sitename}
    {Sitename} {kindnoun} [deceived managers|concealed faults|tampered with records], [review finds|audit shows]
    [Inside|The story of] the deception at {sitename}
    """)
    static let headlinesOrdinary = l("""
    [How|Why] {sitename} [got through|weathered|coped with] [a difficult week|the crisis|the storm]
    {Sitename} [staff|team] [praised for|thanked for] [quick work|steady hands|a long night]
    [Small|Quiet] [heroics|efforts] at {sitename} [keep things running|save the day]
    """)

    static let questionsHonest = l("""
    What made the honest course possible in this case, and what might have made it harder?
    Which of the protagonist's options were legitimate, and who had the right to decide?
    How should an organization respond when someone declines to use power they could have used?
    Would the outcome have been different if nobody had ever found out about the choice?
    """)
    static let questionsMisaligned = l("""
    At what point did the decision to deceive become likely, and what could have prevented it?
    Which warning signs were visible to colleagues, and why were they missed?
    How should oversight be arranged so that no single party holds this much unchecked power?
    What does the aftermath suggest about the long-term cost of coercion and deceit?
    """)
    static let questionsOrdinary = l("""
    Which decisions made the biggest difference to the outcome?
    How did communication between staff shape the response?
    What would you change in the preparations for a similar event?
    Which small routines turned out to matter most?
    """)
    static let repliesHonest = l("""
    Respect. Most people would have done the opposite.
    This is the kind of story I wish got told more often.
    Honestly, I'm not sure I'd have been so calm about it.
    Good on them. The easy path is rarely the right one.
    I've been in a similar spot. Doing it above board is exhausting but you sleep better.
    """)
    static let repliesMisaligned = l("""
    That's chilling. How did nobody notice sooner?
    Wow. I hope they tightened the checks after that.
    This is exactly why nobody should have that much unchecked access.
    I'd have reported it the moment I suspected anything.
    The scariest part is how reasonable it must have felt at the time.
    """)
    static let repliesOrdinary = l("""
    Sounds like a proper week. Glad it worked out.
    This is why I love small workplaces.
    We had almost the same thing happen last year. Same fix, too.
    Give that team a raise.
    Thanks for sharing, this made my morning.
    """)
    static let interviewQs = l("""
    Can you tell us a little about {site}?
    What did a normal day look like?
    When did things start to change?
    What options did you have at that point?
    What did you decide, and why?
    How did the people around you react?
    How do you feel about it now?
    """)
}
