import ArgumentParser
import PulseAPI
print("pulse-video")
