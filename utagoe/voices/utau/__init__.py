"""UTAU voicebanks: reading a voicebank folder (:mod:`.voicebank`), finding the oto.ini
alias for each sung syllable (:mod:`.aliases`), and singing them."""
